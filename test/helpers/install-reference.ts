/**
 * `bun run reference [VERSION…]`: installs the reference `codex` (every
 * version in REFERENCE_VERSIONS unless named) from npm into
 * `.reference/<version>/`, skipping versions already there. The binaries
 * stay out of the package's dependencies: `bun add execbox` pulls none of it.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { REFERENCE_VERSIONS, locateReference, referenceInstallDir } from "./reference-bin.ts";

/** Installs `version` unless present; returns its binary's path. Throws with npm's output when the install fails. */
export function ensureReference(version: string): string {
  const found = locateReference(version);
  if (found.ok) return found.path;
  const dir = referenceInstallDir(version);
  mkdirSync(dir, { recursive: true });
  // A private package.json, so npm installs here and not into whatever project encloses it.
  writeFileSync(join(dir, "package.json"), `${JSON.stringify({ name: "execbox-reference", private: true })}\n`);
  console.error(`installing the reference @openai/codex@${version} into ${dir} …`);
  const npm = Bun.spawnSync(["npm", "install", "--no-save", "--no-audit", "--no-fund", "--loglevel=error", "--prefix", dir, `@openai/codex@${version}`], {
    stdout: "pipe",
    stderr: "pipe",
  });
  const again = locateReference(version);
  if (!npm.success || !again.ok) {
    throw new Error(`npm could not install @openai/codex@${version} (exit ${npm.exitCode}): ${npm.stderr.toString().trim() || (again.ok ? "" : again.reason)}`);
  }
  return again.path;
}

if (import.meta.main) {
  const versions = process.argv.slice(2);
  for (const v of versions.length ? versions : REFERENCE_VERSIONS) console.log(`${v}: ${ensureReference(v)}`);
}
