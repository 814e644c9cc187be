import { expect, test } from "bun:test";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "..");

// The type checker holds rules the runtime does not check in production (lent frames, see
// test/server/frame-ownership.types.ts), so a type error fails the suite like any other test.
test("the whole repository type-checks (tsc --noEmit)", () => {
  const tsc = Bun.spawnSync([process.execPath, join(ROOT, "node_modules/typescript/bin/tsc"), "--noEmit", "-p", ROOT], { cwd: ROOT });
  expect(tsc.stdout.toString() + tsc.stderr.toString()).toBe("");
  expect(tsc.exitCode).toBe(0);
}, 120_000);
