/**
 * The host-safety guards, tested as functions: a removal of `/` must never be
 * sent to a real server, not even to see the error. Root-identity checks use
 * a temp dir standing in for `/` (the guard takes the protected identity).
 */
import { describe, expect, test } from "bun:test";
import { mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { identityOf, refuseDotName, refuseRootRemoval } from "../../src/fs/paths.ts";
import { parsePathUri } from "../../src/protocol/path-uri.ts";
import { REPO, tempDir } from "../helpers/server.ts";

const REFUSED = { code: -32600, message: "fs/remove refuses to remove the root directory `/`" };

describe("root removal guard", () => {
  test("every URI spelling of the root resolves to / and is refused", async () => {
    using t = tempDir();
    for (const uri of ["file:///", "file://", "file://localhost/", `${t.uri}/../../../../../../../..`, "file:///tmp/%2e%2e"]) {
      const path = parsePathUri(uri);
      expect(path).toBe("/");
      expect(refuseRootRemoval(path)).rejects.toMatchObject(REFUSED);
    }
  });
  test("ordinary paths and symlinks pointing at / pass (a link is removed, not its target)", async () => {
    using t = tempDir();
    symlinkSync("/", join(t.path, "rootlink"));
    await refuseRootRemoval(join(t.path, "rootlink"));
    await refuseRootRemoval(t.path);
    await refuseRootRemoval(join(t.path, "missing"));
  });
  test("the protected directory is recognised by device and inode through any other path to it", async () => {
    using t = tempDir();
    const root = join(t.path, "root");
    mkdirSync(join(root, "sub"), { recursive: true });
    symlinkSync(t.path, join(t.path, "up"));
    symlinkSync(root, join(t.path, "root-link"));
    const id = await identityOf(root);
    for (const alias of [root, join(t.path, "up/root"), `/proc/self/root${root}`, `${root}/sub/..`]) {
      expect([alias, await refuseRootRemoval(alias, id).catch((e) => e)]).toEqual([alias, expect.objectContaining(REFUSED)]);
    }
    // A link to it is removed itself; other directories pass.
    await refuseRootRemoval(join(t.path, "root-link"), id);
    await refuseRootRemoval(join(root, "sub"), id);
  });
  const canUnshare = Bun.spawnSync(["unshare", "-rm", "true"], { stderr: "ignore" }).exitCode === 0;
  test.skipIf(!canUnshare)("a bind mount of the protected directory (in a private mount namespace) is refused too", () => {
    using t = tempDir();
    const root = join(t.path, "root");
    const mnt = join(t.path, "mnt");
    mkdirSync(root);
    mkdirSync(mnt);
    const script = `
      import { identityOf, refuseRootRemoval } from ${JSON.stringify(join(REPO, "src/fs/paths.ts"))};
      const [root, alias] = process.argv.slice(-2);
      const id = await identityOf(root);
      const outcome = (p) => refuseRootRemoval(p, id).then(() => "allowed", (e) => e.message);
      console.log(JSON.stringify([await outcome(alias), await outcome(${JSON.stringify(t.path)})]));`;
    const run = Bun.spawnSync(["unshare", "-rm", "sh", "-c", 'mount --bind "$1" "$2" && exec "$0" -e "$3" "$1" "$2"', process.execPath, root, mnt, script], { timeout: 20_000 });
    expect([run.exitCode, run.stderr.toString()]).toEqual([0, ""]);
    expect(JSON.parse(run.stdout.toString())).toEqual([REFUSED.message, "allowed"]);
  });
});

test("a last component `.` or `..` is refused before anything is touched", () => {
  for (const path of ["/tmp/link/.", "/tmp/link/..", "/.", "/.."]) {
    expect(() => refuseDotName(path, "fs/remove")).toThrow("fs/remove refuses to remove a path whose last component is `.` or `..`");
    expect(() => refuseDotName(path, "fs/copy")).toThrow("fs/copy refuses to copy to a path whose last component is `.` or `..`");
  }
  for (const path of ["/tmp/link/.x", "/tmp/..x", "/tmp/a./b", "/"]) refuseDotName(path, "fs/remove");
});
