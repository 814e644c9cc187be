/**
 * The reference, `codex exec-server`, is a development tool and never a
 * dependency of the package: `bun run reference` installs each version from
 * npm into `.reference/<version>/` (ignored by git) for the conformance run,
 * the interop and Codex CLI tests and the benchmarks. CI installs them first.
 */
import { accessSync, constants, existsSync } from "node:fs";
import { join, resolve } from "node:path";

/** The versions execbox is checked against: the newest (whose protocol it speaks) and the one before. */
export const REFERENCE_VERSIONS = ["0.169.0", "0.171.0"] as const;
export type ReferenceVersion = (typeof REFERENCE_VERSIONS)[number];
export const NEWEST_REFERENCE: ReferenceVersion = "0.171.0";

export const REFERENCE_ROOT = resolve(import.meta.dir, "../../.reference");

/** The npm package holding the native binary for this machine, and its Rust target triple (as @openai/codex's bin/codex.js maps them). */
const PLATFORM_TARGETS: Record<string, { pkg: string; triple: string }> = {
  "linux-x64": { pkg: "@openai/codex-linux-x64", triple: "x86_64-unknown-linux-musl" },
  "linux-arm64": { pkg: "@openai/codex-linux-arm64", triple: "aarch64-unknown-linux-musl" },
  "darwin-x64": { pkg: "@openai/codex-darwin-x64", triple: "x86_64-apple-darwin" },
  "darwin-arm64": { pkg: "@openai/codex-darwin-arm64", triple: "aarch64-apple-darwin" },
};

export function referenceInstallDir(version: string): string {
  return join(REFERENCE_ROOT, version);
}

/** Where `bun run reference` puts the native binary of `version` (it may not be there yet). */
export function referenceBinPath(version: string): string {
  const target = PLATFORM_TARGETS[`${process.platform}-${process.arch}`];
  if (!target) return join(referenceInstallDir(version), "unsupported-platform");
  const modules = join(referenceInstallDir(version), "node_modules");
  // Hoisted next to the wrapper, or nested under it.
  const dir = [join(modules, target.pkg), join(modules, "@openai", "codex", "node_modules", target.pkg)].find((d) => existsSync(d)) ?? join(modules, target.pkg);
  return join(dir, "vendor", target.triple, "bin", "codex");
}

export type ReferenceLocation = { ok: true; path: string; version: string } | { ok: false; reason: string };

/** The installed binary of `version`, or why there is none (tests skip with it; in CI they fail). */
export function locateReference(version: string = NEWEST_REFERENCE): ReferenceLocation {
  const path = referenceBinPath(version);
  try {
    accessSync(path, constants.X_OK);
  } catch {
    return { ok: false, reason: `the reference ${version} is not installed at ${path} (run \`bun run reference\`)` };
  }
  return { ok: true, path, version };
}

/**
 * The binary tests run as "the reference": `CODEX_BIN` if set, else the
 * newest installed version. Its path is returned even when missing, so a
 * test that needs it fails with a spawn error naming it; suites check
 * `locateReference` first to skip (or, in CI, to fail) with the reason.
 */
export const REFERENCE_BIN: string = process.env.CODEX_BIN ?? referenceBinPath(NEWEST_REFERENCE);

/**
 * For suites that run the reference: its binary (`CODEX_BIN` wins), or null
 * to skip, with the reason printed once. In CI a missing reference is an
 * error, so CI can never pass by skipping what it is meant to check.
 */
export function referenceForTests(version: string = NEWEST_REFERENCE): string | null {
  if (process.env.CODEX_BIN && version === NEWEST_REFERENCE) return process.env.CODEX_BIN;
  const found = locateReference(version);
  if (found.ok) return found.path;
  if (process.env.CI) throw new Error(`CI needs the reference: ${found.reason}`);
  console.warn(`[reference] skipping: ${found.reason}`);
  return null;
}

/** A `codex` binary's version (`codex --version` prints `codex-cli X.Y.Z`), or null if it cannot say. */
export function binaryVersion(path: string): string | null {
  const out = Bun.spawnSync([path, "--version"], { stdout: "pipe", stderr: "ignore", stdin: "ignore", timeout: 10_000 });
  return /(\d+\.\d+\.\d+)/.exec(out.stdout.toString())?.[1] ?? null;
}
