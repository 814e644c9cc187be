/**
 * Builds what the npm package ships (`bun build.ts --package`, run by
 * `npm pack` through `prepack`):
 *   dist/lib/   the client library and protocol as JavaScript for Node ≥ 20
 *               and Bun (dependencies stay imports), with `.d.ts` beside it
 *   dist/cli/execbox.js  the CLI as one minified file for Bun, dependencies
 *               included (the executor needs Bun: Bun.listen, bun:ffi)
 * Types come from `tsc --emitDeclarationOnly` (tsconfig.build.json); their
 * `./x.ts` specifiers are rewritten to `./x.js`, which every consumer's
 * module resolution maps to the `.d.ts` beside it.
 */
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "..");
export const LIB = join(ROOT, "dist/lib");
export const CLI_BUNDLE = join(ROOT, "dist/cli/execbox.js");
/** The library's entry points; one build, so they share chunks and error classes. */
const LIB_ENTRIES = ["src/client/index.ts", "src/protocol/index.ts", "src/client/remote.ts"];
/** What `execbox/remote` resolves to outside Bun: it needs Bun.connect and Bun.CryptoHasher. */
const REMOTE_NEEDS_BUN = `throw new Error("execbox/remote needs Bun (it uses Bun.connect and Bun.CryptoHasher); the main entry, \\"execbox\\", runs on Node");\n`;

async function run(argv: string[]): Promise<void> {
  const proc = Bun.spawn(argv, { cwd: ROOT, stdout: "inherit", stderr: "inherit" });
  if ((await proc.exited) !== 0) throw new Error(`${argv.slice(0, 3).join(" ")} failed`);
}

/** Rewrites relative `.ts` specifiers in every `.d.ts` under `dir` to `.js`. */
function rewriteDeclarationSpecifiers(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith(".d.ts")) continue;
    const file = join(entry.parentPath, entry.name);
    const text = readFileSync(file, "utf8");
    writeFileSync(file, text.replace(/(["'])(\.{1,2}\/[^"']*)\.ts\1/g, "$1$2.js$1"));
  }
}

export async function buildPackage(): Promise<void> {
  rmSync(LIB, { recursive: true, force: true });
  const bun = process.execPath;
  await run([bun, "build", "--target=node", "--format=esm", "--splitting", "--packages=external", "--root=src", `--outdir=${LIB}`, ...LIB_ENTRIES]);
  writeFileSync(join(LIB, "client/remote-needs-bun.js"), REMOTE_NEEDS_BUN);
  await run([bun, join(ROOT, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json"]);
  rewriteDeclarationSpecifiers(LIB);
  await run([bun, "build", "--target=bun", "--format=esm", "--minify", "src/cli/main.ts", `--outfile=${CLI_BUNDLE}`]);
}
