/**
 * `%FF` in a file: URI names the byte 0xff, as the reference reads it; decoded
 * to U+FFFD it named a different file, so writes landed beside the one asked
 * for. Against a real executor, inside a temp tree this test creates (its
 * non-UTF-8 names only creatable through Buffer paths).
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { closeSync, constants, existsSync, mkdirSync, openSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { type RunningServer, sharedExecutor, startServer, tempDir } from "../helpers/server.ts";
import { RawClient } from "../helpers/rpc-client.ts";
import { special } from "../helpers/sandbox.ts";

setDefaultTimeout(30_000);

const tmp = tempDir();
const W = tmp.path;
/** `W/<rel>` followed by the raw byte 0xff: a name that is not UTF-8. */
const raw = (rel: string, tail = "") => Buffer.concat([Buffer.from(`${W}/${rel}`), Buffer.from([0xff]), Buffer.from(tail)]);
/** Where the old decoding went instead: U+FFFD's UTF-8 bytes. */
const lossy = (rel: string) => `${W}/${rel}\uFFFD`;
const u = (rel: string) => `file://${W}/${rel}`;
const b64 = (s: string) => Buffer.from(s).toString("base64");
/** The raw names in a directory, hex, so a U+FFFD twin cannot hide among them. */
const namesHex = (rel: string) => readdirSync(`${W}/${rel}`, { encoding: "buffer" }).map((n) => n.toString("hex")).sort();

let server: RunningServer;
let c: RawClient;
const executor = sharedExecutor();
beforeAll(() => {
  for (const x of ["w", "r", "m", "c", "l", "p", "k", "e"]) mkdirSync(`${W}/${x}`);
  mkdirSync(raw("e/d"));
  mkdirSync(raw("w/d"));
  writeFileSync(raw("r/f"), "raw\n");
  mkdirSync(raw("m/n"));
  writeFileSync(raw("c/f"), "copied\n");
  mkdirSync(raw("c/d"));
  writeFileSync(raw("l/n"), "");
  mkdirSync(raw("l/d"));
  writeFileSync(raw("l/d", "/f"), "");
  mkdirSync(raw("p/d"));
  ({ server, client: c } = executor);
});
afterAll(() => tmp[Symbol.dispose]());

const err = async (method: string, params: unknown) => (await c.call(method, params)).error;

describe("a %FF path names the raw byte", () => {
  test("writeFile onto an existing non-UTF-8 directory is EISDIR and creates nothing", async () => {
    expect(await err("fs/writeFile", { path: u("w/d%FF"), dataBase64: b64("x") })).toEqual({ code: -32603, message: "Is a directory (os error 21)" });
    expect(existsSync(lossy("w/d"))).toBe(false);
    expect(namesHex("w")).toEqual(["64ff"]);
  });

  test("readFile and getMetadata reach the file; errors show the name lossily", async () => {
    expect(await c.ok("fs/readFile", { path: u("r/f%FF") })).toEqual({ dataBase64: b64("raw\n") });
    const m = await c.ok("fs/getMetadata", { path: u("r/f%FF") });
    expect([m.isFile, m.size]).toEqual([true, 4]);
    expect(await err("fs/readFile", { path: u("w/d%FF") })).toEqual({ code: -32600, message: `path \`${W}/w/d\uFFFD\` is not a file` });
  });

  test("createDirectory of an existing non-UTF-8 directory with recursive:false is EEXIST", async () => {
    expect(await err("fs/createDirectory", { path: u("m/n%FF"), recursive: false })).toEqual({ code: -32603, message: "File exists (os error 17)" });
    expect(await c.ok("fs/createDirectory", { path: u("m/new%FE/sub") })).toEqual({});
    expect(namesHex("m")).toEqual(["6e6577fe", "6eff"]);
  });

  test("copy reads the raw source, refuses a raw directory destination, keeps raw names in a tree", async () => {
    expect(await err("fs/copy", { sourcePath: u("c/f%FF"), destinationPath: u("c/d%FF"), recursive: false })).toEqual({
      code: -32603,
      message: "Is a directory (os error 21)",
    });
    expect(await c.ok("fs/copy", { sourcePath: u("c/f%FF"), destinationPath: u("c/g%FE"), recursive: false })).toEqual({});
    expect(readFileSync(Buffer.from(`${W}/c/g\xfe`, "latin1"), "utf8")).toBe("copied\n");
    expect(await c.ok("fs/copy", { sourcePath: u("c"), destinationPath: u("k/tree%FF"), recursive: true })).toEqual({});
    expect(readdirSync(raw("k/tree"), { encoding: "buffer" }).map((n) => n.toString("hex")).sort()).toEqual(["64ff", "66ff", "67fe"]);
  });

  test("canonicalize returns the raw byte percent-encoded; remove removes the raw name", async () => {
    expect(await c.ok("fs/canonicalize", { path: u("r/f%FF") })).toEqual({ path: `file://${W}/r/f%FF` });
    expect(await c.ok("fs/remove", { path: u("c/g%FE") })).toEqual({});
    expect(namesHex("c")).toEqual(["64ff", "66ff"]);
  });

  test("fs/open streams the raw file; watchMissing sees that it exists", async () => {
    expect(await c.ok("fs/open", { handleId: "h", path: u("r/f%FF") })).toEqual({ handleId: "h" });
    expect(await c.ok("fs/readBlock", { handleId: "h", offset: 0, len: 16 })).toEqual({ chunk: b64("raw\n"), eof: true });
    await c.ok("fs/close", { handleId: "h" });
    expect(await c.ok("fs/watchMissing", { watchId: 1, missing: [u("r/f%FF")] })).toEqual({ watching: false });
  });

  test("`.` and `..` after a non-UTF-8 name are still refused before anything is touched", async () => {
    expect(await err("fs/remove", { path: u("w/d%FF%2F..") })).toEqual({
      code: -32600,
      message: "fs/remove refuses to remove a path whose last component is `.` or `..`",
    });
    expect(await err("fs/copy", { sourcePath: u("r/f%FF"), destinationPath: u("w/d%FF%2F."), recursive: false })).toEqual({
      code: -32600,
      message: "fs/copy refuses to copy to a path whose last component is `.` or `..`",
    });
    expect(namesHex("w")).toEqual(["64ff"]);
    expect(readdirSync(raw("w/d"))).toEqual([]);
  });
});

describe("names the server returns", () => {
  test("readDirectory lists a non-UTF-8 name lossily, as the reference", async () => {
    const { entries } = await c.ok("fs/readDirectory", { path: u("l") });
    expect(entries.sort((a: any, b: any) => (a.fileName < b.fileName ? -1 : 1))).toEqual([
      { fileName: "d\uFFFD", isDirectory: true, isFile: false },
      { fileName: "n\uFFFD", isDirectory: false, isFile: true },
    ]);
  });

  test("walk looks lossy names up as given (errors, as the reference) and walks from a raw root", async () => {
    const options = { maxDepth: 5, maxDirectories: 10, maxEntries: 100, followDirectorySymlinks: false };
    expect(await c.ok("fs/walk", { path: u("l"), options })).toEqual({
      entries: [],
      errors: [
        { path: `file://${W}/l/d%EF%BF%BD`, message: "No such file or directory (os error 2)" },
        { path: `file://${W}/l/n%EF%BF%BD`, message: "No such file or directory (os error 2)" },
      ],
      truncated: false,
    });
    expect(await c.ok("fs/walk", { path: u("l/d%FF"), options })).toEqual({
      entries: [{ path: `file://${W}/l/d%FF/f`, kind: "file" }],
      errors: [],
      truncated: false,
    });
  });
});

describe("process/start", () => {
  test("runs in a non-UTF-8 cwd, pipes and PTY", async () => {
    for (const tty of [false, true]) {
      const processId = `cwd-${tty}`;
      const argv = ["/bin/sh", "-c", "/bin/pwd | od -An -tx1"];
      expect(await c.ok("process/start", { processId, argv, cwd: u("p/d%FF"), env: { PATH: "/usr/bin:/bin" }, tty })).toMatchObject({ processId });
      await c.processDone(processId);
      const hex = c.output(processId).toString().replace(/\s+/g, "");
      expect(hex).toBe(Buffer.concat([raw("p/d"), Buffer.from("\n")]).toString("hex"));
    }
  });

  test("a sandbox with a non-UTF-8 cwd or entry is refused, never run elsewhere", async () => {
    const managed = (entries: object[]) => ({
      permissions: { type: "managed", file_system: { type: "restricted", entries }, network: "restricted" },
      cwd: u("p"),
      windowsSandboxLevel: "disabled",
    });
    const start = (processId: string, cwd: string, sandbox: object) =>
      err("process/start", { processId, argv: ["/bin/true"], cwd, env: {}, tty: false, sandbox });
    expect(await start("sb-cwd", u("p/d%FF"), managed([{ path: special("root"), access: "read" }]))).toEqual({
      code: -32602,
      message: `sandbox intent cannot be enforced on this executor: cwd \`${W}/p/d\uFFFD\` is not UTF-8`,
    });
    const deny = { path: { type: "path", path: u("p/d%FF") }, access: "deny" };
    expect(await start("sb-entry", u("p"), managed([{ path: special("root"), access: "read" }, deny]))).toEqual({
      code: -32602,
      message: `sandbox intent cannot be enforced on this executor: sandbox entry \`${W}/p/d\uFFFD\` is not UTF-8`,
    });
  });
});

describe("environment/info", () => {
  test("an executor started in a non-UTF-8 cwd reports it with the raw byte", async () => {
    // Bun.spawn takes a text cwd only: the directory is named by a descriptor's /proc link.
    const fd = openSync(raw("e/d"), constants.O_RDONLY | constants.O_DIRECTORY);
    await using s = await startServer([], { cwd: `/proc/${process.pid}/fd/${fd}` }).finally(() => closeSync(fd));
    const client = await RawClient.websocket(s.url);
    await client.initialize();
    expect((await client.ok("environment/info")).cwd).toBe(`file://${W}/e/d%FF`);
    client.close();
  });
});
