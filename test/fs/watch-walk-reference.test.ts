/**
 * fs/watchMissing and fs/walk details the probe generator found (each probed on
 * 0.171.0; probe-gen/fs/watchMissing/*, probe-gen/fs/walk/path), against a real executor.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { RawClient } from "../helpers/rpc-client.ts";
import { sharedExecutor, tempDir } from "../helpers/server.ts";

setDefaultTimeout(30_000);

const executor = sharedExecutor();
const t = tempDir();
afterAll(() => t[Symbol.dispose]());

async function freshConnection(): Promise<RawClient> {
  const c = await RawClient.websocket(executor.server.url);
  await c.initialize();
  return c;
}

describe("watchMissing", () => {
  test("ids rise strictly per connection: 0 never watches; a refused or lower id is spent; a malformed URI spends nothing", async () => {
    const c = await freshConnection();
    const watch = async (watchId: number, missing = [`${t.uri}/never-${watchId}`]) =>
      (await c.call("fs/watchMissing", { watchId, present: null, missing })).result?.watching;
    const answers = [];
    for (const id of [0, 5, 3, 0, 7, 6]) answers.push(await watch(id));
    expect(answers).toEqual([false, true, false, false, true, false]);
    expect(await watch(9, [])).toBe(false);
    expect((await c.call("fs/watchMissing", { watchId: 11, present: null, missing: ["relative"] })).error).toEqual({
      code: -32602,
      message: "invalid URI: relative URL without a base",
    });
    expect([await watch(8), await watch(11)]).toEqual([false, true]);
    c.close();
  });

  test("a symlink anywhere in `present` or a missing path refuses the watch; a file URI of another host answers watching:false", async () => {
    mkdirSync(join(t.path, "dir"));
    writeFileSync(join(t.path, "dir", "b.txt"), "");
    symlinkSync("dir", join(t.path, "link-dir"));
    symlinkSync("dir/b.txt", join(t.path, "link-file"));
    const c = await freshConnection();
    let id = 0;
    const watch = async (present: string | null, missing = `${t.uri}/flag`) =>
      (await c.ok("fs/watchMissing", { watchId: ++id, present, missing: [missing] })).watching;
    expect(await watch(`${t.uri}/link-file`)).toBe(false);
    expect(await watch(`${t.uri}/link-dir`)).toBe(false);
    expect(await watch(`${t.uri}/link-dir/b.txt`)).toBe(false);
    expect(await watch(`${t.uri}/dir/b.txt`, `${t.uri}/link-dir/x`)).toBe(false);
    expect(await watch(`file://otherhost${t.path}/dir`)).toBe(false);
    expect(await watch(null, `file://otherhost${t.path}/flag`)).toBe(false);
    expect(await watch(`${t.uri}/link-dir/../dir/b.txt`)).toBe(true); // `..` is resolved in the URI, before the file system sees it
    expect(await watch(`${t.uri}//dir/`)).toBe(true);
    c.close();
  });
});

test("walk keeps a `//` of the requested path in every entry path (Rust's Path::join normalizes nothing)", async () => {
  mkdirSync(join(t.path, "w/dir/sub"), { recursive: true });
  writeFileSync(join(t.path, "w/dir/b.txt"), "");
  const walk = async (path: string) =>
    (await executor.client.ok("fs/walk", { path, options: { followDirectorySymlinks: false, maxDepth: 3, maxDirectories: 10, maxEntries: 50 } })).entries;
  expect(await walk(`${t.uri}/w//dir`)).toEqual([
    { path: `${t.uri}/w//dir/b.txt`, kind: "file" },
    { path: `${t.uri}/w//dir/sub`, kind: "directory" },
  ]);
  expect(await walk(`${t.uri}/w/dir/`)).toEqual([
    { path: `${t.uri}/w/dir/b.txt`, kind: "file" },
    { path: `${t.uri}/w/dir/sub`, kind: "directory" },
  ]);
});
