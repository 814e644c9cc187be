#!/usr/bin/env bun
/**
 * Builds a release into dist/: every executable (build.ts; all five targets,
 * or those given with --target), the npm tarball (`npm pack`, which builds
 * the library and CLI bundle), install.sh, and SHA256SUMS over all of them —
 * the file deploy/install.sh checks a download against.
 *   bun run release [--target current …]
 */
import { copyFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { build, requestedTargets, writeChecksums } from "../build.ts";

const ROOT = join(import.meta.dir, "..");
const DIST = join(ROOT, "dist");

async function npmPack(): Promise<string> {
  const proc = Bun.spawn(["npm", "pack", "--json", "--pack-destination", DIST], { cwd: ROOT, stdout: "pipe", stderr: "inherit" });
  const out = await new Response(proc.stdout).text();
  if ((await proc.exited) !== 0) throw new Error("npm pack failed");
  // prepack's build logs come before npm's JSON.
  const [{ filename }] = JSON.parse(out.slice(out.indexOf("[\n"))) as [{ filename: string }];
  return join(DIST, filename);
}

if (import.meta.main) {
  mkdirSync(DIST, { recursive: true });
  const files: string[] = [];
  for (const target of requestedTargets(process.argv.slice(2))) files.push(await build(target));
  files.push(await npmPack());
  copyFileSync(join(ROOT, "deploy/install.sh"), join(DIST, "install.sh"));
  files.push(join(DIST, "install.sh"));
  writeChecksums(files);
  console.log(`release in dist/: ${files.length} files and SHA256SUMS`);
}
