/** fs/* against a real executor, only inside a temp tree this test creates. */
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { link, mkdir, readFile, readlink, symlink, writeFile } from "node:fs/promises";
import { existsSync, lstatSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { RawClient } from "../helpers/rpc-client.ts";
import { type RunningServer, sharedExecutor, tempDir } from "../helpers/server.ts";

// Integration tests start real servers and processes; each wait inside has its own deadline.
setDefaultTimeout(30_000);

let server: RunningServer;
let c: RawClient;
const tmp = tempDir();
const W = tmp.path;
const u = (rel: string) => `file://${join(W, rel)}`;
const b64 = (s: string | Buffer) => Buffer.from(s).toString("base64");

const executor = sharedExecutor();
beforeAll(async () => {
  writeFileSync(join(W, "a.txt"), "hello\n");
  mkdirSync(join(W, "dir/sub"), { recursive: true });
  writeFileSync(join(W, "dir/b.txt"), "b");
  await symlink(join(W, "a.txt"), join(W, "link-a"));
  await symlink(join(W, "nowhere"), join(W, "dir/dangling"));
  ({ server, client: c } = executor);
});
afterAll(() => tmp[Symbol.dispose]());

const err = async (method: string, params: unknown) => (await c.call(method, params)).error;

describe("read and write", () => {
  test("writeFile creates and truncates; readFile returns the bytes", async () => {
    expect(await c.ok("fs/writeFile", { path: u("new.txt"), dataBase64: b64("new file\n") })).toEqual({});
    expect(await c.ok("fs/readFile", { path: u("new.txt") })).toEqual({ dataBase64: b64("new file\n") });
    await c.ok("fs/writeFile", { path: u("new.txt"), dataBase64: b64("x") });
    expect(await readFile(join(W, "new.txt"), "utf8")).toBe("x");
    const bytes = Buffer.from([0, 255, 128, 10]);
    await c.ok("fs/writeFile", { path: u("bin"), dataBase64: b64(bytes) });
    expect((await c.ok("fs/readFile", { path: u("bin") })).dataBase64).toBe(b64(bytes));
  });
  test("errors: missing, directory, FIFO, bad base64, missing parent", async () => {
    expect(await err("fs/readFile", { path: u("missing.txt") })).toEqual({ code: -32004, message: "No such file or directory (os error 2)" });
    expect(await err("fs/readFile", { path: u("dir") })).toEqual({ code: -32600, message: `path \`${W}/dir\` is not a file` });
    expect(Bun.spawnSync(["mkfifo", join(W, "fifo")]).exitCode).toBe(0);
    expect(await err("fs/readFile", { path: u("fifo") })).toEqual({ code: -32600, message: `path \`${W}/fifo\` is not a file` });
    expect(await err("fs/writeFile", { path: u("x.txt"), dataBase64: "aGk" })).toEqual({ code: -32600, message: "fs/writeFile requires valid base64 dataBase64: Invalid padding" });
    expect(await err("fs/writeFile", { path: u("no/parent.txt"), dataBase64: "" })).toEqual({ code: -32004, message: "No such file or directory (os error 2)" });
    expect(await err("fs/writeFile", { path: u("dir"), dataBase64: "" })).toEqual({ code: -32603, message: "Is a directory (os error 21)" });
  });
  test("followSymlinks:false refuses links", async () => {
    expect(await err("fs/readFile", { path: u("link-a"), followSymlinks: false })).toEqual({ code: -32603, message: "Symbolic link loop (os error 40)" });
    await symlink(join(W, "dir"), join(W, "link-dir"));
    expect(await err("fs/readFile", { path: u("link-dir/b.txt"), followSymlinks: false })).toEqual({ code: -32603, message: "Not a directory (os error 20)" });
    expect((await c.ok("fs/readFile", { path: u("link-dir/b.txt") })).dataBase64).toBe(b64("b"));
  });
  test("unicode, spaces, % and # in names round-trip", async () => {
    const name = "spa ce ünï %25 #x.txt";
    const uri = `file://${W}/${encodeURIComponent(name)}`;
    await c.ok("fs/writeFile", { path: uri, dataBase64: b64("u") });
    expect(await readFile(join(W, name), "utf8")).toBe("u");
    const canon = await c.ok("fs/canonicalize", { path: uri });
    expect(canon.path).toBe(`file://${W}/spa%20ce%20%C3%BCn%C3%AF%20%2525%20%23x.txt`);
  });
});

describe("directories and metadata", () => {
  test("createDirectory defaults to recursive; recursive:false needs the parent", async () => {
    expect(await c.ok("fs/createDirectory", { path: u("made/deep") })).toEqual({});
    expect(await c.ok("fs/createDirectory", { path: u("made/deep") })).toEqual({});
    expect(await err("fs/createDirectory", { path: u("made"), recursive: false })).toEqual({ code: -32603, message: "File exists (os error 17)" });
    expect(await err("fs/createDirectory", { path: u("a.txt") })).toEqual({ code: -32603, message: "File exists (os error 17)" });
    expect(await err("fs/createDirectory", { path: u("nope/x"), recursive: false })).toEqual({ code: -32004, message: "No such file or directory (os error 2)" });
  });
  test("getMetadata describes the target, isSymlink the path itself", async () => {
    const m = await c.ok("fs/getMetadata", { path: u("link-a") });
    expect({ ...m, modifiedAtMs: 0 }).toEqual({ isDirectory: false, isFile: true, isSymlink: true, size: 6, createdAtMs: 0, modifiedAtMs: 0 });
    expect(Math.abs(m.modifiedAtMs - lstatSync(join(W, "a.txt")).mtimeMs)).toBeLessThan(1);
    expect(await err("fs/getMetadata", { path: u("link-a"), followSymlinks: false })).toEqual({ code: -32600, message: "path contains a symbolic link" });
    expect(await err("fs/getMetadata", { path: u("dir/dangling") })).toEqual({ code: -32004, message: "No such file or directory (os error 2)" });
  });
  test("readDirectory classifies links by target and omits dangling ones", async () => {
    const { entries } = await c.ok("fs/readDirectory", { path: u("dir") });
    const sorted = [...entries].sort((a: any, b: any) => a.fileName.localeCompare(b.fileName));
    expect(sorted).toEqual([
      { fileName: "b.txt", isDirectory: false, isFile: true },
      { fileName: "sub", isDirectory: true, isFile: false },
    ]);
    expect(await err("fs/readDirectory", { path: u("a.txt") })).toEqual({ code: -32603, message: "Not a directory (os error 20)" });
  });
});

describe("remove and copy", () => {
  test("remove defaults to rm -rf; force:false and recursive:false", async () => {
    mkdirSync(join(W, "rm/x/y"), { recursive: true });
    expect(await c.ok("fs/remove", { path: u("rm") })).toEqual({});
    expect(existsSync(join(W, "rm"))).toBe(false);
    expect(await c.ok("fs/remove", { path: u("does/not/exist") })).toEqual({});
    expect(await err("fs/remove", { path: u("does-not-exist"), force: false })).toEqual({ code: -32004, message: "No such file or directory (os error 2)" });
    mkdirSync(join(W, "full/x"), { recursive: true });
    expect(await err("fs/remove", { path: u("full"), recursive: false })).toEqual({ code: -32603, message: "Directory not empty (os error 39)" });
    expect(await err("fs/remove", { path: u("full"), followSymlinks: false })).toEqual({ code: -32603, message: "recursive no-follow removal is unsupported" });
    await symlink(join(W, "full"), join(W, "full-link"));
    await c.ok("fs/remove", { path: u("full-link") });
    expect(existsSync(join(W, "full/x"))).toBe(true);
  });
  test("copy: files, trees merged, symlinks as links, refusals", async () => {
    await c.ok("fs/copy", { sourcePath: u("dir"), destinationPath: u("dir-copy"), recursive: true });
    expect(await readFile(join(W, "dir-copy/b.txt"), "utf8")).toBe("b");
    expect(await readlink(join(W, "dir-copy/dangling"))).toBe(join(W, "nowhere"));
    expect(await err("fs/copy", { sourcePath: u("dir"), destinationPath: u("dir-copy2"), recursive: false })).toEqual({ code: -32600, message: "fs/copy requires recursive: true when sourcePath is a directory" });
    expect(await err("fs/copy", { sourcePath: u("dir"), destinationPath: u("dir/sub/inner"), recursive: true })).toEqual({ code: -32600, message: "fs/copy cannot copy a directory to itself or one of its descendants" });
    expect(existsSync(join(W, "dir/sub/inner"))).toBe(false);
    expect(await err("fs/copy", { sourcePath: u("fifo"), destinationPath: u("fifo2"), recursive: false })).toEqual({ code: -32600, message: "fs/copy only supports regular files, directories, and symlinks" });
    expect(await err("fs/copy", { sourcePath: u("a.txt"), destinationPath: u("dir"), recursive: false })).toEqual({ code: -32603, message: "Is a directory (os error 21)" });
    expect(await err("fs/copy", { sourcePath: u("missing"), destinationPath: u("m2"), recursive: false })).toEqual({ code: -32004, message: "No such file or directory (os error 2)" });
    await link(join(W, "a.txt"), join(W, "hard-a"));
    await c.ok("fs/copy", { sourcePath: u("hard-a"), destinationPath: u("hard-copy"), recursive: false });
    expect(lstatSync(join(W, "hard-copy")).nlink).toBe(1);
  });
  test("a symlink is never copied over an existing entry (EEXIST, as the reference): nothing there is lost", async () => {
    writeFileSync(join(W, "keep-me.txt"), "keep");
    expect(await err("fs/copy", { sourcePath: u("link-a"), destinationPath: u("keep-me.txt"), recursive: false })).toEqual({ code: -32603, message: "File exists (os error 17)" });
    expect(await readFile(join(W, "keep-me.txt"), "utf8")).toBe("keep");
    mkdirSync(join(W, "merge-src"));
    await symlink("a.txt", join(W, "merge-src/entry"));
    mkdirSync(join(W, "merge-dst"));
    writeFileSync(join(W, "merge-dst/entry"), "dest data");
    expect(await err("fs/copy", { sourcePath: u("merge-src"), destinationPath: u("merge-dst"), recursive: true })).toEqual({ code: -32603, message: "File exists (os error 17)" });
    expect(await readFile(join(W, "merge-dst/entry"), "utf8")).toBe("dest data");
  });
  test("a FIFO at the destination is refused, not opened (opening it to write would hang the request)", async () => {
    expect(Bun.spawnSync(["mkfifo", join(W, "dest-fifo")]).exitCode).toBe(0);
    expect(await err("fs/copy", { sourcePath: u("a.txt"), destinationPath: u("dest-fifo"), recursive: false })).toEqual({ code: -32600, message: `fs/copy refuses to write into a FIFO: ${join(W, "dest-fifo")}` });
  });
  test("copying a tree into itself through a symlinked destination is refused too", async () => {
    await symlink(join(W, "dir/sub"), join(W, "into-dir"));
    expect(await err("fs/copy", { sourcePath: u("dir"), destinationPath: u("into-dir/again"), recursive: true })).toEqual({ code: -32600, message: "fs/copy cannot copy a directory to itself or one of its descendants" });
  });
});

describe("walk", () => {
  test("breadth-first, sorted, hidden dirs pruned, truncated by entries", async () => {
    using t = tempDir();
    mkdirSync(join(t.path, ".hidden/inner"), { recursive: true });
    mkdirSync(join(t.path, "b/c"), { recursive: true });
    writeFileSync(join(t.path, "a.txt"), "");
    writeFileSync(join(t.path, "b/c/d.txt"), "");
    await symlink(t.path, join(t.path, "b/loop"));
    const opts = { maxDepth: 10, maxDirectories: 100, maxEntries: 1000, followDirectorySymlinks: false, pruneHiddenDirectories: true };
    const r = await c.ok("fs/walk", { path: t.uri, options: opts });
    expect(r).toEqual({
      entries: [
        { path: `${t.uri}/.hidden`, kind: "directory" },
        { path: `${t.uri}/a.txt`, kind: "file" },
        { path: `${t.uri}/b`, kind: "directory" },
        { path: `${t.uri}/b/c`, kind: "directory" },
        { path: `${t.uri}/b/c/d.txt`, kind: "file" },
      ],
      errors: [],
      truncated: false,
    });
    const followed = await c.ok("fs/walk", { path: t.uri, options: { ...opts, followDirectorySymlinks: true } });
    expect(followed.entries.map((e: any) => e.path.slice(t.uri.length))).toEqual(["/.hidden", "/a.txt", "/b", "/b/c", "/b/loop", "/b/c/d.txt"]);
    const cut = await c.ok("fs/walk", { path: t.uri, options: { ...opts, maxEntries: 2 } });
    expect(cut).toEqual({ entries: [{ path: `${t.uri}/.hidden`, kind: "directory" }, { path: `${t.uri}/a.txt`, kind: "file" }], errors: [], truncated: true });
    const shallow = await c.ok("fs/walk", { path: t.uri, options: { ...opts, maxDepth: 1 } });
    expect(shallow.entries.length).toBe(4);
  });
  test("limits are validated", async () => {
    const o = { maxDepth: 65, maxDirectories: 1, maxEntries: 1, followDirectorySymlinks: false, pruneHiddenDirectories: false };
    expect(await err("fs/walk", { path: tmp.uri, options: o })).toEqual({ code: -32600, message: "filesystem walk limits exceed maximums: depth=64, directories=10000, entries=50000" });
    expect(await err("fs/walk", { path: tmp.uri, options: { ...o, maxDepth: 1, maxDirectories: 0 } })).toEqual({ code: -32600, message: "filesystem walk limits must be greater than zero" });
    expect(await err("fs/walk", { path: tmp.uri, options: { maxDepth: 1 } })).toEqual({ code: -32602, message: "missing field `maxDirectories`" });
    expect(await c.ok("fs/walk", { path: u("a.txt"), options: { ...o, maxDepth: 1 } })).toEqual({ entries: [], errors: [], truncated: false });
    expect(await err("fs/walk", { path: u("missing"), options: { ...o, maxDepth: 1 } })).toEqual({ code: -32004, message: "No such file or directory (os error 2)" });
  });
});

describe("watchMissing", () => {
  test("fires once when a watched path appears; refusals answer watching:false", async () => {
    mkdirSync(join(W, "watched"));
    const r = await c.ok("fs/watchMissing", { watchId: 7, present: u("watched"), missing: [u("watched/ready.flag")] });
    expect(r).toEqual({ watching: true });
    expect(await c.ok("fs/watchMissing", { watchId: 7, present: u("watched"), missing: [u("watched/other")] })).toEqual({ watching: false });
    expect(await c.ok("fs/watchMissing", { watchId: 8, present: u("watched"), missing: [] })).toEqual({ watching: false });
    expect(await c.ok("fs/watchMissing", { watchId: 9, present: u("missing-dir"), missing: [u("missing-dir/x")] })).toEqual({ watching: false });
    expect(await c.ok("fs/watchMissing", { watchId: 10, present: u("watched"), missing: [u("a.txt")] })).toEqual({ watching: false });
    writeFileSync(join(W, "watched/ready.flag"), "");
    const n = await c.waitFor((f) => f.method === "fs/missingChanged");
    expect(n).toEqual({ method: "fs/missingChanged", params: { watchId: 7 } });
  });
  test("present:null (as the Codex CLI sends) watches through the nearest existing ancestor", async () => {
    const r = await c.ok("fs/watchMissing", { watchId: 21, present: null, missing: [u("later/deep/.git")] });
    expect(r).toEqual({ watching: true });
    await mkdir(join(W, "later/deep"), { recursive: true });
    await writeFile(join(W, "later/deep/.git"), "");
    expect(await c.waitFor((f) => f.method === "fs/missingChanged" && f.params.watchId === 21)).toBeTruthy();
  });
});

describe("reference details", () => {
  test("walk: maxDepth 0 lists the root's children; dangling links are not entries; a symlinked root is not walked unless followed", async () => {
    using t = tempDir();
    mkdirSync(join(t.path, "d/e"), { recursive: true });
    writeFileSync(join(t.path, "z.txt"), "");
    await symlink(join(t.path, "nowhere"), join(t.path, "a-dangling"));
    await symlink(join(t.path, "d"), join(t.path, "link-d"));
    const o = { maxDepth: 0, maxDirectories: 10, maxEntries: 2, followDirectorySymlinks: false };
    expect(await c.ok("fs/walk", { path: t.uri, options: o })).toEqual({
      entries: [{ path: `${t.uri}/d`, kind: "directory" }],
      errors: [],
      truncated: true,
    });
    const all = await c.ok("fs/walk", { path: t.uri, options: { ...o, maxEntries: 3 } });
    expect(all.entries.map((e: any) => e.path.slice(t.uri.length))).toEqual(["/d", "/z.txt"]);
    expect(all.truncated).toBe(false);
    expect(await c.ok("fs/walk", { path: `${t.uri}/link-d`, options: o })).toEqual({ entries: [], errors: [], truncated: false });
    const followed = await c.ok("fs/walk", { path: `${t.uri}/link-d`, options: { ...o, followDirectorySymlinks: true } });
    expect(followed.entries).toEqual([{ path: `${t.uri}/link-d/e`, kind: "directory" }]);
  });

  test("no-follow metadata and removal: a final link is refused, a linked parent is ENOTDIR, nothing is removed", async () => {
    expect(await err("fs/getMetadata", { path: u("link-dir/b.txt"), followSymlinks: false })).toEqual({ code: -32603, message: "Not a directory (os error 20)" });
    expect(await err("fs/remove", { path: u("link-a"), recursive: false, followSymlinks: false })).toEqual({ code: -32600, message: "path contains a symbolic link" });
    expect(await err("fs/remove", { path: u("link-dir/b.txt"), recursive: false, followSymlinks: false })).toEqual({ code: -32603, message: "Not a directory (os error 20)" });
    expect(lstatSync(join(W, "link-a")).isSymbolicLink()).toBe(true);
    expect(existsSync(join(W, "dir/b.txt"))).toBe(true);
    const m = await c.ok("fs/getMetadata", { path: u("a.txt"), followSymlinks: false });
    expect(m.createdAtMs).toBe(Math.floor(lstatSync(join(W, "a.txt")).birthtimeMs));
  });

  test("copy: a tree into missing parents, onto a file is EEXIST, special files inside are skipped", async () => {
    using t = tempDir();
    mkdirSync(join(t.path, "src"));
    writeFileSync(join(t.path, "src/f"), "f");
    expect(Bun.spawnSync(["mkfifo", join(t.path, "src/fifo")]).exitCode).toBe(0);
    writeFileSync(join(t.path, "file"), "");
    await c.ok("fs/copy", { sourcePath: `${t.uri}/src`, destinationPath: `${t.uri}/new/parents/dst`, recursive: true });
    expect(await readFile(join(t.path, "new/parents/dst/f"), "utf8")).toBe("f");
    expect(existsSync(join(t.path, "new/parents/dst/fifo"))).toBe(false);
    expect(await err("fs/copy", { sourcePath: `${t.uri}/src`, destinationPath: `${t.uri}/file`, recursive: true })).toEqual({ code: -32603, message: "File exists (os error 17)" });
  });

  test("watchMissing: creating a directory on the way to a watched path fires; a refused id is spent", async () => {
    using t = tempDir();
    expect(await c.ok("fs/watchMissing", { watchId: 40, present: `${t.uri}/missing`, missing: [`${t.uri}/x`] })).toEqual({ watching: false });
    expect(await c.ok("fs/watchMissing", { watchId: 40, present: t.uri, missing: [`${t.uri}/x`] })).toEqual({ watching: false });
    expect(await c.ok("fs/watchMissing", { watchId: 41, present: t.uri, missing: [`${t.uri}/sub/deep.flag`] })).toEqual({ watching: true });
    mkdirSync(join(t.path, "sub"));
    expect(await c.waitFor((f) => f.method === "fs/missingChanged" && f.params.watchId === 41)).toEqual({ method: "fs/missingChanged", params: { watchId: 41 } });
  });

  test("URI edge cases: a NUL byte, a `c|` segment", async () => {
    expect(await err("fs/getMetadata", { path: `${tmp.uri}/a%00b` })).toEqual({ code: -32602, message: `'${tmp.uri}/a%00b' is invalid on 'linux'` });
    expect(await err("fs/getMetadata", { path: `${tmp.uri}/c|/x` })).toEqual({ code: -32004, message: "No such file or directory (os error 2)" });
  });
});

test("copying a file onto itself (directly or through a link) keeps its content; the reference truncates it", async () => {
  using t = tempDir();
  writeFileSync(join(t.path, "self.txt"), "precious");
  await symlink(join(t.path, "self.txt"), join(t.path, "self-link"));
  await c.ok("fs/copy", { sourcePath: `${t.uri}/self.txt`, destinationPath: `${t.uri}/self.txt`, recursive: false });
  expect(await err("fs/copy", { sourcePath: `${t.uri}/self-link`, destinationPath: `${t.uri}/self.txt`, recursive: false })).toEqual({ code: -32600, message: "fs/copy cannot replace a symlink's target with a link to itself" });
  expect(await readFile(join(t.path, "self.txt"), "utf8")).toBe("precious");
});
