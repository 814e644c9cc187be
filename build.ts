#!/usr/bin/env bun
/**
 * Builds single-file executables with `bun build --compile`:
 *   bun build.ts                  all targets
 *   bun build.ts --target current this machine's only (what CI runs)
 *   bun build.ts --target linux-x64 --target darwin-arm64
 *   bun build.ts --package        what npm ships (scripts/build-package.ts)
 * Output: dist/execbox-<os>-<arch>[.exe] and dist/SHA256SUMS.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";

export const TARGETS = ["linux-x64", "linux-arm64", "darwin-x64", "darwin-arm64", "windows-x64"] as const;
export type Target = (typeof TARGETS)[number];

const ROOT = import.meta.dir;
const DIST = join(ROOT, "dist");
const ENTRY = join(ROOT, "src/cli/main.ts");

/**
 * The flags of every compile (release, tests, benchmarks). `--splitting`: code
 * reached only through `import()` (remote mode, the OpenTelemetry SDK) is a
 * chunk inside the executable, loaded when imported; in one bundle its
 * bytecode was loaded at startup anyway (measured: tracing's SDK added
 * 0.9 MiB to an idle executor's RSS that never traced; split, nothing, and
 * the base executor's idle RSS drops 0.5 MiB).
 */
export const COMPILE_FLAGS = ["--compile", "--splitting", "--minify", "--bytecode", "--format=esm"];

export function currentTarget(): Target {
  const os = process.platform === "win32" ? "windows" : process.platform;
  return `${os}-${process.arch}` as Target;
}

export function outfileFor(target: Target): string {
  return join(DIST, `execbox-${target}${target.startsWith("windows") ? ".exe" : ""}`);
}

export async function build(target: Target): Promise<string> {
  const outfile = outfileFor(target);
  const proc = Bun.spawn(
    [process.execPath, "build", ...COMPILE_FLAGS, `--target=bun-${target}`, ENTRY, "--outfile", outfile],
    { cwd: ROOT, stdout: "inherit", stderr: "inherit" },
  );
  if ((await proc.exited) !== 0) throw new Error(`build for ${target} failed`);
  return outfile;
}

/** `dir/SHA256SUMS` in sha256sum's format ("<hex>  <name>"), one line per file. */
export function writeChecksums(files: string[], dir = DIST): void {
  const lines = files.map((f) => `${createHash("sha256").update(readFileSync(f)).digest("hex")}  ${basename(f)}`);
  writeFileSync(join(dir, "SHA256SUMS"), `${lines.join("\n")}\n`);
}

export function requestedTargets(argv: string[]): Target[] {
  const picked: Target[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] !== "--target") continue;
    const t = argv[++i];
    const target = t === "current" ? currentTarget() : (t as Target);
    if (!TARGETS.includes(target)) throw new Error(`unknown target ${t}; expected current or one of ${TARGETS.join(", ")}`);
    picked.push(target);
  }
  return picked.length > 0 ? picked : [...TARGETS];
}

if (import.meta.main && process.argv.includes("--package")) {
  await (await import("./scripts/build-package.ts")).buildPackage();
} else if (import.meta.main) {
  mkdirSync(DIST, { recursive: true });
  const files = [];
  for (const target of requestedTargets(process.argv.slice(2))) files.push(await build(target));
  writeChecksums(files);
  console.log(`built ${files.map((f) => basename(f)).join(", ")}; checksums in dist/SHA256SUMS`);
}
