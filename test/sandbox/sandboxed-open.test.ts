/**
 * fs/open under a restricted file-system policy (sandboxedFileStreaming),
 * against a real executor (EXECBOX_BIN when set) with real bwrap: the file
 * is opened inside the sandbox by the fs helper and its descriptor passed
 * back. Each threat has its test: a path escaping through `..` or a symlink,
 * a symlink swapped between the check and the open, a handle outliving its
 * connection (held, or still being opened when the connection ends).
 */
import { afterAll, afterEach, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { RawClient } from "../helpers/rpc-client.ts";
import { sharedExecutor, startServer, tempDir } from "../helpers/server.ts";
import { waitUntil, waitUntilSteady } from "../helpers/wait.ts";

setDefaultTimeout(120_000);

const executor = sharedExecutor();
const dir = tempDir("execbox-sbx-open-");
const ws = join(dir.path, "ws");
const SECRET = "secret\n";
beforeAll(() => {
  mkdirSync(ws);
  mkdirSync(join(dir.path, "hidden"));
  writeFileSync(join(ws, "a.txt"), "public\n");
  writeFileSync(join(dir.path, "hidden/secret.txt"), SECRET);
  symlinkSync("../hidden/secret.txt", join(ws, "link-out"));
  symlinkSync("a.txt", join(ws, "swap"));
});
afterAll(() => dir[Symbol.dispose]());

/** Reads `ws` only: `hidden` is outside the readable set. */
const readWs = {
  permissions: {
    type: "managed",
    network: "restricted",
    file_system: { type: "restricted", entries: [{ path: { type: "path", path: `file://${ws}` }, access: "read" }] },
  },
  windowsSandboxLevel: "disabled",
};
const b64 = (s: string) => Buffer.from(s).toString("base64");
let opened = 0;

/** fs/open + one readBlock + fs/close of `uri` under readWs: the text read, or the open's error. */
async function openAndRead(c: RawClient, uri: string): Promise<string | { code: number; message: string }> {
  const handleId = `h${opened++}`;
  const open = await c.call("fs/open", { handleId, path: uri, sandbox: readWs }, 60_000);
  if (open.error) return open.error;
  const block = await c.call("fs/readBlock", { handleId, offset: 0, len: 64 });
  await c.call("fs/close", { handleId });
  return Buffer.from(block.result.chunk, "base64").toString();
}

/**
 * Descriptors of the executor open on `path`'s inode (by identity: a file the
 * helper opened reads as its path inside the sandbox's mount, e.g. `/a.txt`).
 */
function descriptorsOn(pid: number, path: string): number {
  const want = statSync(path);
  let n = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const st = statSync(`/proc/${pid}/fd/${fd}`);
      if (st.ino === want.ino && st.dev === want.dev) n++;
    } catch {
      // closed while we looked
    }
  }
  return n;
}

/** Processes whose parent is `pid` (the fs helper's bwrap while an open is under way). */
function childrenOf(pid: number): number {
  let n = 0;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Field 4 of /proc/<pid>/stat, after the parenthesized command name.
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === pid) n++;
    } catch {
      // gone
    }
  }
  return n;
}

const clients: RawClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});
async function connect(): Promise<RawClient> {
  const c = await RawClient.websocket(executor.server.url);
  clients.push(c);
  await c.initialize();
  return c;
}

test("an allowed file streams; a path escaping through a symlink or `..`, or hidden, is -32004 and nothing of it is read", async () => {
  const c = executor.client;
  expect(await openAndRead(c, `file://${ws}/a.txt`)).toBe("public\n");
  const notFound = { code: -32004, message: "No such file or directory (os error 2)" };
  expect(await openAndRead(c, `file://${ws}/link-out`)).toEqual(notFound);
  expect(await openAndRead(c, `file://${ws}/../hidden/secret.txt`)).toEqual(notFound);
  expect(await openAndRead(c, `file://${dir.path}/hidden/secret.txt`)).toEqual(notFound);
  const replace = await c.call("fs/open", { handleId: "w", path: `file://${ws}/new.txt`, mode: "replace", sandbox: readWs }, 60_000);
  expect(replace.error).toEqual({ code: -32603, message: "Read-only file system (os error 30)" });
});

test("a symlink swapped between check and open never yields the hidden file", async () => {
  // A real process flips ws/swap between a.txt and the hidden secret as fast as it can (rename is atomic).
  const flipper = Bun.spawn(
    ["sh", "-c", 'cd "$1" && while :; do ln -sfn a.txt t1 && mv -T t1 swap; ln -sfn ../hidden/secret.txt t2 && mv -T t2 swap; done', "sh", ws],
    { stdout: "ignore", stderr: "ignore" },
  );
  try {
    const answers = [];
    for (let i = 0; i < 12; i++) answers.push(await openAndRead(executor.client, `file://${ws}/swap`));
    expect(answers).not.toContain(SECRET);
    expect(answers.every((a) => a === "public\n" || (typeof a === "object" && a.code === -32004))).toBe(true);
  } finally {
    flipper.kill("SIGKILL");
    await flipper.exited;
  }
});

test("a sandboxed handle is closed when its connection ends", async () => {
  const pid = executor.server.proc.pid;
  const c = await connect();
  const file = join(ws, "a.txt");
  expect((await c.call("fs/open", { handleId: "kept", path: `file://${file}`, sandbox: readWs }, 60_000)).result).toEqual({ handleId: "kept" });
  expect(descriptorsOn(pid, file)).toBe(1);
  c.close();
  await waitUntil(() => descriptorsOn(pid, file) === 0, 10_000, "the handle's descriptor to be closed");
});

test("an open still under way when its connection ends closes the file it gets", async () => {
  const pid = executor.server.proc.pid;
  const c = await connect();
  const file = join(ws, "a.txt");
  c.request("fs/open", { handleId: "late", path: `file://${file}`, sandbox: readWs });
  await waitUntil(() => childrenOf(pid) > 0, 30_000, "the fs helper to start");
  c.close();
  await waitUntil(() => childrenOf(pid) === 0, 60_000, "the fs helper to exit");
  // The descriptor arrives just after the helper exits: it must be closed, not kept by a table that is gone.
  expect(await waitUntilSteady(() => descriptorsOn(pid, file), "descriptors on the file")).toBe(0);
});

test("replace under a writable root streams into the file; block I/O keeps its mode", async () => {
  const writable = {
    ...readWs,
    permissions: { ...readWs.permissions, file_system: { type: "restricted", entries: [{ path: { type: "path", path: `file://${ws}` }, access: "write" }] } },
  };
  const c = executor.client;
  const uri = `file://${ws}/out.txt`;
  expect((await c.call("fs/open", { handleId: "w", path: uri, mode: "replace", sandbox: writable }, 60_000)).result).toEqual({ handleId: "w" });
  expect((await c.call("fs/writeBlock", { handleId: "w", offset: 0, chunk: b64("streamed\n") })).result).toEqual({});
  expect((await c.call("fs/readBlock", { handleId: "w", offset: 0, len: 4 })).error).toEqual({ code: -32603, message: "Bad file descriptor (os error 9)" });
  expect((await c.call("fs/close", { handleId: "w" })).result).toEqual({});
  expect(readFileSync(join(ws, "out.txt"), "utf8")).toBe("streamed\n");
});

test("the capabilities follow the backend: true under bwrap, false under Landlock (fail closed)", async () => {
  const flags = async (c: RawClient) => {
    const { capabilities } = (await c.call("environment/info")).result;
    return [capabilities.sandboxedFileStreaming, capabilities.capabilityDiscoverySandbox];
  };
  expect(await flags(executor.client)).toEqual([true, true]);
  await using landlock = await startServer(["--sandbox-backend", "landlock"]);
  const c = await RawClient.websocket(landlock.url);
  clients.push(c);
  await c.initialize();
  expect(await flags(c)).toEqual([false, false]);
});
