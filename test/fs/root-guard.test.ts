/**
 * The root removal guard, tested as a function: a removal of `/` must never
 * be sent to a real server, not even to see the error. Identity checks use a
 * temp dir standing in for `/` (the guard takes the protected identity), and
 * bind mounts live in a private mount namespace (`unshare -rm`).
 */
import { describe, expect, test } from "bun:test";
import { mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { identityOf } from "../../src/fs/paths.ts";
import { refuseRootRemoval } from "../../src/fs/root-guard.ts";
import { parsePathUri } from "../../src/protocol/path-uri.ts";
import { REPO, tempDir } from "../helpers/server.ts";

const REFUSED = { code: -32600, message: "fs/remove refuses to remove the root directory `/`" };
const canUnshare = Bun.spawnSync(["unshare", "-rm", "true"], { stderr: "ignore" }).exitCode === 0;

/**
 * Runs the guard inside a private mount namespace where `mounts` ([source,
 * target] pairs) are bind-mounted, with `root` as the protected directory;
 * returns "allowed" or the refusal text for each path.
 */
function guardInNamespace(root: string, mounts: [string, string | Buffer][], paths: (string | Buffer)[]): string[] {
  const script = `
    import { identityOf } from ${JSON.stringify(join(REPO, "src/fs/paths.ts"))};
    import { refuseRootRemoval } from ${JSON.stringify(join(REPO, "src/fs/root-guard.ts"))};
    import { fromBytes } from ${JSON.stringify(join(REPO, "src/protocol/path-uri.ts"))};
    const [root, ...paths] = JSON.parse(process.env.GUARD_ARGS);
    const id = await identityOf(root);
    const outcomes = [];
    for (const p of paths) outcomes.push(await refuseRootRemoval(fromBytes(Buffer.from(p, "hex")), id).then(() => "allowed", (e) => e.message));
    console.log(JSON.stringify(outcomes));`;
  const binds = mounts.map(([from, to]) => `mount --bind ${shellBytes(from)} ${shellBytes(to)}`).join(" && ");
  const run = Bun.spawnSync(["unshare", "-rm", "sh", "-c", `${binds} && exec "$0" -e "$1"`, process.execPath, script], {
    env: { ...process.env, GUARD_ARGS: JSON.stringify([root, ...paths.map((p) => Buffer.from(p).toString("hex"))]) },
    timeout: 20_000,
  });
  expect([run.exitCode, run.stderr.toString()]).toEqual([0, ""]);
  return JSON.parse(run.stdout.toString());
}

/** A path's exact bytes as a shell word (printf octal escapes), for names that are not UTF-8. */
function shellBytes(path: string | Buffer): string {
  const safe = (b: number) => b > 0x20 && b < 0x7f && !"'\\%".includes(String.fromCharCode(b));
  return `"$(printf '${[...Buffer.from(path)].map((b) => (safe(b) ? String.fromCharCode(b) : `\\${b.toString(8).padStart(3, "0")}`)).join("")}')"`;
}

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
  test.skipIf(!canUnshare)("a bind mount of the protected directory is refused too", () => {
    using t = tempDir();
    const root = join(t.path, "root");
    const mnt = join(t.path, "mnt");
    mkdirSync(root);
    mkdirSync(mnt);
    mkdirSync(join(t.path, "other"));
    expect(guardInNamespace(root, [[root, mnt]], [mnt, join(t.path, "other")])).toEqual([REFUSED.message, "allowed"]);
  });
  test.skipIf(!canUnshare)("a directory with the protected directory mounted somewhere inside is refused before anything is removed", () => {
    using t = tempDir();
    const root = join(t.path, "root");
    const deep = join(t.path, "victim/a b/mnt");
    mkdirSync(root);
    mkdirSync(deep, { recursive: true });
    mkdirSync(join(t.path, "other"));
    const victim = join(t.path, "victim");
    expect(guardInNamespace(root, [[root, deep]], [victim, join(t.path, "victim/a b"), join(t.path, "other")])).toEqual([
      `fs/remove refuses to remove \`${victim}\`: the root directory \`/\` is mounted inside it at \`${deep}\``,
      `fs/remove refuses to remove \`${join(t.path, "victim/a b")}\`: the root directory \`/\` is mounted inside it at \`${deep}\``,
      "allowed",
    ]);
  });
  test.skipIf(!canUnshare)("a mount inside a directory whose name is not UTF-8 is found by its bytes", () => {
    using t = tempDir();
    const root = join(t.path, "root");
    const victim = Buffer.from(`${t.path}/v\xff`, "latin1");
    const deep = Buffer.concat([victim, Buffer.from("/m\xfe", "latin1")]);
    mkdirSync(root);
    mkdirSync(deep, { recursive: true });
    expect(guardInNamespace(root, [[root, deep]], [victim, parsePathUri(`${t.uri}/v%FF`)])).toEqual([
      `fs/remove refuses to remove \`${t.path}/v\uFFFD\`: the root directory \`/\` is mounted inside it at \`${t.path}/v\uFFFD/m\uFFFD\``,
      `fs/remove refuses to remove \`${t.path}/v\uFFFD\`: the root directory \`/\` is mounted inside it at \`${t.path}/v\uFFFD/m\uFFFD\``,
    ]);
  });
});
