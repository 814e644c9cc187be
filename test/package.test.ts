import { expect, test } from "bun:test";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "..");
/** What a source install may weigh: the sources and two documents (about 0.8 MB today), never dist/ or node_modules. */
const MAX_UNPACKED_BYTES = 4 * 1024 * 1024;

// `files` in package.json keeps an install to the sources: without it a local install copied dist/ and node_modules (133 MB).
test("the package holds src/, README.md, SECURITY.md and package.json only", () => {
  const pack = Bun.spawnSync(["npm", "pack", "--dry-run", "--json"], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  expect(pack.exitCode).toBe(0);
  const [info] = JSON.parse(pack.stdout.toString()) as { unpackedSize: number; files: { path: string }[] }[];
  const tops = [...new Set(info!.files.map((f) => f.path.split("/")[0]))].sort();
  expect(tops).toEqual(["README.md", "SECURITY.md", "package.json", "src"]);
  expect(info!.unpackedSize).toBeLessThan(MAX_UNPACKED_BYTES);
});
