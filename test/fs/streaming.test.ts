/** fs/open + readBlock/writeBlock/close: block boundaries, handle limits, files replaced under a stream. */
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { renameSync, unlinkSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { RawClient } from "../helpers/rpc-client.ts";
import { waitUntil } from "../helpers/wait.ts";
import { type RunningServer, sharedExecutor, startServer, tempDir } from "../helpers/server.ts";

// Integration tests start real servers and processes; each wait inside has its own deadline.
setDefaultTimeout(30_000);

const MiB = 1024 * 1024;
let server: RunningServer;
let c: RawClient;
const tmp = tempDir();
const u = (rel: string) => `file://${join(tmp.path, rel)}`;
const data = Buffer.alloc(2.5 * MiB);
for (let i = 0; i < data.length; i++) data[i] = (i * 7 + (i >> 11)) & 0xff;

const executor = sharedExecutor();
beforeAll(() => {
  writeFileSync(join(tmp.path, "big.bin"), data);
  ({ server, client: c } = executor);
});
afterAll(() => tmp[Symbol.dispose]());

const block = async (handleId: string, offset: number, len: number) => {
  const r = await c.ok("fs/readBlock", { handleId, offset, len });
  return { bytes: Buffer.from(r.chunk, "base64"), eof: r.eof };
};

describe("reads", () => {
  test("1 MiB blocks, eof on a short read, reads at and past the end", async () => {
    expect(await c.ok("fs/open", { handleId: "r1", path: u("big.bin") })).toEqual({ handleId: "r1" });
    const a = await block("r1", 0, MiB);
    expect([a.bytes.equals(data.subarray(0, MiB)), a.eof]).toEqual([true, false]);
    const b = await block("r1", 2 * MiB, MiB);
    expect([b.bytes.equals(data.subarray(2 * MiB)), b.eof]).toEqual([true, true]);
    // As the reference: eof means a short read, so a block ending exactly at the end is not eof yet.
    const exact = await block("r1", 1.5 * MiB, MiB);
    expect([exact.bytes.length, exact.eof]).toEqual([MiB, false]);
    expect(await c.ok("fs/readBlock", { handleId: "r1", offset: 2.5 * MiB, len: 16 })).toEqual({ chunk: "", eof: true });
    expect(await c.ok("fs/readBlock", { handleId: "r1", offset: 10 * MiB, len: 16 })).toEqual({ chunk: "", eof: true });
    for (const len of [0, MiB + 1]) {
      expect((await c.call("fs/readBlock", { handleId: "r1", offset: 0, len })).error).toEqual({ code: -32600, message: "file read block length must be between 1 and 1048576" });
    }
    expect(await c.ok("fs/close", { handleId: "r1" })).toEqual({});
    expect(await c.ok("fs/close", { handleId: "r1" })).toEqual({});
    expect((await c.call("fs/readBlock", { handleId: "r1", offset: 0, len: 1 })).error).toEqual({ code: -32004, message: "unknown file handle `r1`" });
  });

  test("a stream keeps reading the file it opened after its path is replaced or unlinked", async () => {
    writeFileSync(join(tmp.path, "moving.txt"), "original-content");
    await c.ok("fs/open", { handleId: "m", path: u("moving.txt") });
    expect((await block("m", 0, 8)).bytes.toString()).toBe("original");
    writeFileSync(join(tmp.path, "new.txt"), "REPLACED");
    renameSync(join(tmp.path, "new.txt"), join(tmp.path, "moving.txt"));
    expect((await block("m", 8, 100)).bytes.toString()).toBe("-content");
    unlinkSync(join(tmp.path, "moving.txt"));
    expect((await block("m", 0, 100)).bytes.toString()).toBe("original-content");
    await c.ok("fs/close", { handleId: "m" });
  });

  test("open errors", async () => {
    const e = async (p: Record<string, unknown>) => (await c.call("fs/open", p)).error;
    expect(await e({ handleId: "x", path: u("missing") })).toEqual({ code: -32004, message: "No such file or directory (os error 2)" });
    expect(await e({ handleId: "x", path: tmp.uri })).toEqual({ code: -32600, message: `path \`${tmp.path}\` is not a file` });
    expect(await e({ handleId: "x".repeat(33), path: u("big.bin") })).toEqual({ code: -32600, message: "file handle ID must not exceed 32 bytes" });
    expect(await e({ handleId: "ü".repeat(17), path: u("big.bin") })).toEqual({ code: -32600, message: "file handle ID must not exceed 32 bytes" });
    expect(await e({ handleId: "m", path: u("big.bin"), mode: "append" })).toEqual({ code: -32602, message: "unknown variant `append`, expected `read` or `replace`" });
  });
});

describe("writes", () => {
  test("replace truncates at once; positional writes leave a zero-filled hole; modes are enforced", async () => {
    writeFileSync(join(tmp.path, "out.txt"), "old contents");
    await c.ok("fs/open", { handleId: "w", path: u("out.txt"), mode: "replace" });
    expect(await readFile(join(tmp.path, "out.txt"), "utf8")).toBe("");
    await c.ok("fs/writeBlock", { handleId: "w", offset: 0, chunk: Buffer.from("hello ").toString("base64") });
    await c.ok("fs/writeBlock", { handleId: "w", offset: 8, chunk: Buffer.from("world").toString("base64") });
    expect((await c.call("fs/readBlock", { handleId: "w", offset: 0, len: 1 })).error).toEqual({ code: -32603, message: "Bad file descriptor (os error 9)" });
    expect((await c.call("fs/writeBlock", { handleId: "w", offset: 0, chunk: "" })).error).toEqual({ code: -32600, message: "file write block length must be between 1 and 1048576" });
    await c.ok("fs/close", { handleId: "w" });
    expect(await readFile(join(tmp.path, "out.txt"))).toEqual(Buffer.from("hello \0\0world"));
    await c.ok("fs/open", { handleId: "r", path: u("out.txt") });
    expect((await c.call("fs/writeBlock", { handleId: "r", offset: 0, chunk: "eA==" })).error).toEqual({ code: -32603, message: "Bad file descriptor (os error 9)" });
    await c.ok("fs/close", { handleId: "r" });
  });
});

describe("offsets and ids the reference refuses (probe-gen/fs/readBlock, writeBlock, close)", () => {
  const err = async (method: string, params: Record<string, unknown>) => (await c.call(method, params)).error;
  test("a read past 2^53 is end of file; at 2^63 it is EINVAL; a write reaching 2^63 is refused, past 2^53 is EFBIG", async () => {
    await c.ok("fs/open", { handleId: "far", path: u("big.bin") });
    expect(await c.ok("fs/readBlock", { handleId: "far", offset: 2 ** 53, len: 4 })).toEqual({ chunk: "", eof: true });
    expect(await err("fs/readBlock", { handleId: "far", offset: 2 ** 63, len: 4 })).toEqual({ code: -32600, message: "Invalid argument (os error 22)" });
    await c.ok("fs/open", { handleId: "farw", path: u("far-out.bin"), mode: "replace" });
    expect(await err("fs/readBlock", { handleId: "farw", offset: 2 ** 63, len: 4 })).toEqual({ code: -32600, message: "Invalid argument (os error 22)" });
    expect(await err("fs/writeBlock", { handleId: "farw", offset: 2 ** 53, chunk: "Ymxr" })).toEqual({ code: -32603, message: "File too large (os error 27)" });
    expect(await err("fs/writeBlock", { handleId: "farw", offset: 2 ** 63, chunk: "Ymxr" })).toEqual({
      code: -32600,
      message: "file write range exceeds the signed 64-bit file offset limit",
    });
    await c.ok("fs/close", { handleId: "far" });
    await c.ok("fs/close", { handleId: "farw" });
  });

  test("a Unix socket cannot be opened in either mode: the OS text, never Node's (`ENXIO: no such device or address, open …`)", async () => {
    const path = join(tmp.path, "listening.sock");
    const listener = Bun.listen({ unix: path, socket: { data() {} } });
    try {
      const enxio = { code: -32603, message: "No such device or address (os error 6)" };
      expect(await err("fs/open", { handleId: "s1", path: u("listening.sock"), mode: "read" })).toEqual(enxio);
      expect(await err("fs/open", { handleId: "s2", path: u("listening.sock"), mode: "replace" })).toEqual(enxio);
    } finally {
      listener.stop(true);
    }
  });

  test("an id over 32 bytes is refused on readBlock, writeBlock and close, before any other check", async () => {
    const tooLong = { code: -32600, message: "file handle ID must not exceed 32 bytes" };
    const id = "h".repeat(33);
    expect(await err("fs/readBlock", { handleId: id, offset: 0, len: 0 })).toEqual(tooLong);
    expect(await err("fs/writeBlock", { handleId: id, offset: 2 ** 63, chunk: "" })).toEqual(tooLong);
    expect(await err("fs/close", { handleId: "ü".repeat(17) })).toEqual(tooLong);
    expect(await c.ok("fs/close", { handleId: "h".repeat(32) })).toEqual({});
  });
});

describe("handle limits", () => {
  test("128 handles per connection; closing one frees a slot; another connection has its own", async () => {
    for (let i = 0; i < 128; i++) await c.ok("fs/open", { handleId: `h${i}`, path: u("big.bin") });
    expect((await c.call("fs/open", { handleId: "h128", path: u("big.bin") })).error).toEqual({ code: -32600, message: "at most 128 file handles may be open per connection" });
    expect((await c.call("fs/open", { handleId: "h5", path: u("big.bin") })).error).toEqual({ code: -32600, message: "file handle `h5` already exists" });
    const other = await RawClient.websocket(server.url);
    await other.initialize();
    expect(await other.ok("fs/open", { handleId: "h0", path: u("big.bin") })).toEqual({ handleId: "h0" });
    other.close();
    await c.ok("fs/close", { handleId: "h7" });
    expect(await c.ok("fs/open", { handleId: "h128", path: u("big.bin") })).toEqual({ handleId: "h128" });
  });

  test("opens handled at once cannot pass the cap: those under way count (--concurrent-requests 16)", async () => {
    await using concurrent = await startServer(["--concurrent-requests", "16"]);
    const client = await RawClient.websocket(concurrent.url);
    await client.initialize();
    const ids = Array.from({ length: 140 }, (_, i) => client.request("fs/open", { handleId: `p${i}`, path: u("big.bin") }));
    const answers = await Promise.all(ids.map((id) => client.waitFor((f) => f.id === id && ("result" in f || "error" in f))));
    expect(answers.filter((f) => f.result).length).toBe(128);
    expect(new Set(answers.filter((f) => f.error).map((f) => f.error.message))).toEqual(new Set(["at most 128 file handles may be open per connection"]));
    client.close();
  });

  test("handles are closed when the connection ends (descriptors released)", async () => {
    const pid = server.proc.pid;
    const fdsNow = () => require("node:fs").readdirSync(`/proc/${pid}/fd`).length as number;
    const before = fdsNow();
    const other = await RawClient.websocket(server.url);
    await other.initialize();
    for (let i = 0; i < 50; i++) await other.ok("fs/open", { handleId: `x${i}`, path: u("big.bin") });
    expect(fdsNow()).toBeGreaterThanOrEqual(before + 50);
    other.close();
    await other.waitClosed();
    // The socket's own descriptor may linger briefly; the 50 file descriptors must go.
    await waitUntil(() => fdsNow() <= before + 2, 5000, "descriptors to be released");
  });
});
