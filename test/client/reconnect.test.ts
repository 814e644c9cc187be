/**
 * Reconnect and resume through a TCP proxy that cuts live connections the way
 * a network failure would. The client must deliver every output byte exactly
 * once and in order, re-send reads and writes (same writeId), reject what may
 * have been applied, and fail cleanly after its deadline.
 */
import { afterAll, afterEach, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  type ClientState,
  type ExecboxClient,
  ExecboxConnectionError,
  type RemoteProcess,
  connectWebSocket,
} from "../../src/client/index.ts";
import { type RunningServer, startServer, tempDir } from "../helpers/server.ts";
import { type TcpProxy, startTcpProxy } from "../helpers/tcp-proxy.ts";
import { waitUntil } from "../helpers/wait.ts";
import { PROTOCOL_VERSION } from "../../src/version.ts";

setDefaultTimeout(60_000);

const ENV = { PATH: "/usr/bin:/bin" };
const SIZE = 20 * 1024 * 1024;
const CUTS = 20;
const dir = tempDir();
const DATA = randomBytes(SIZE);
const BIG_SIZE = 50 * 1024 * 1024;
const BIG_DATA = randomBytes(BIG_SIZE);
let server: RunningServer;
let proxy: TcpProxy;
let client: ExecboxClient;
let states: ClientState[];

beforeAll(async () => {
  writeFileSync(join(dir.path, "big.bin"), DATA);
  writeFileSync(join(dir.path, "big50.bin"), BIG_DATA);
  server = await startServer();
});
afterEach(async () => {
  await client?.close();
  proxy?.close();
});
afterAll(async () => {
  // SIGTERM: the executor kills every process it still runs (detached sessions included) before exiting.
  await server?.stop("SIGTERM");
  dir[Symbol.dispose]();
});

async function connect(recoveryDeadlineMs = 20_000): Promise<void> {
  proxy = startTcpProxy(server.url);
  client = await connectWebSocket(proxy.url, { recoveryDeadlineMs });
  states = [];
  client.on("state", (s) => states.push(s));
}

const sh = (script: string, extra: object = {}) => ({ argv: ["sh", "-c", script], cwd: dir.uri, env: ENV, tty: false, ...extra });
/** Waits until the client has been through `n` recoveries in all and is connected again. */
const reconnected = (n: number) =>
  waitUntil(() => states.filter((s) => s === "recovering").length >= n && client.state === "connected", 20_000, `recovery ${n}`);

/**
 * One simulated network failure: bytes for the client stall in the proxy for
 * up to 50 ms (lost by the cut, so the client must fetch them again), then
 * every connection is cut and reconnects are refused for up to 30 ms more
 * (output produced meanwhile is only readable with process/read).
 */
async function failure(stall: boolean): Promise<boolean> {
  proxy.stall(stall);
  if (stall) await Bun.sleep(Math.random() * 50);
  proxy.refuse(true);
  const cut = proxy.cut() > 0;
  proxy.stall(false);
  await Bun.sleep(Math.random() * 30);
  proxy.refuse(false);
  return cut;
}

/**
 * Consumes a process's output, causing one failure within each 1/CUTS of the
 * expected size, at a random point, while the client is connected (a failure
 * during a recovery would stretch the detached time by the backoff). With
 * `pauseForRecovery` the consumer stops at each mark until the client is back,
 * so every planned cut happens whatever the machine's speed.
 */
type CutPlan = { stall: boolean; size: number; cuts: number; paceMs: number; pauseForRecovery?: boolean };

async function receiveWithCuts(
  p: RemoteProcess,
  { stall, size, cuts: planned, paceMs, pauseForRecovery = false }: CutPlan = { stall: true, size: SIZE, cuts: CUTS, paceMs: 0 },
): Promise<{ bytes: Buffer; cuts: number; lost: number; exitCode: number }> {
  const marks = Array.from({ length: planned }, (_, i) => Math.floor(((i + Math.random()) * size) / planned));
  const parts: Uint8Array[] = [];
  let received = 0;
  let cuts = 0;
  let lost = 0;
  let failing: Promise<void> | null = null;
  for await (const e of p) {
    if (e.type === "gap") lost += e.count;
    if (e.type !== "output") continue;
    // A consumer slower than the producer: back-pressure reaches the child, and the stream lasts long enough to cut often.
    if (paceMs > 0) await Bun.sleep(paceMs);
    parts.push(e.data);
    received += e.data.byteLength;
    while (marks.length > 0 && received >= marks[0]!) {
      marks.shift();
      if (pauseForRecovery) {
        const before = states.filter((s) => s === "recovering").length;
        if (!(await failure(stall))) throw new Error("a cut found no live connection while the client was connected");
        cuts++;
        await reconnected(before + 1);
        continue;
      }
      if (client.state !== "connected") continue;
      failing ??= failure(stall).then((cut) => {
        if (cut) cuts++;
        failing = null;
      });
    }
  }
  await failing;
  return { bytes: Buffer.concat(parts), cuts, lost, exitCode: await p.closed };
}

test("a cut mid-process: recovering → connected, and the output goes on exactly once", async () => {
  await connect();
  const p = await client.startProcess(sh("i=0; while [ $i -lt 40 ]; do echo line$i; i=$((i+1)); sleep 0.01; done"));
  let out = "";
  let cut = false;
  for await (const e of p) {
    if (e.type === "output") out += Buffer.from(e.data).toString();
    if (!cut && out.includes("line10\n")) cut = proxy.cut() > 0;
  }
  expect(cut).toBe(true);
  expect(out).toBe(Array.from({ length: 40 }, (_, i) => `line${i}\n`).join(""));
  expect(await p.closed).toBe(0);
  expect(states.slice(0, 2)).toEqual(["recovering", "connected"]);
  expect(proxy.accepted).toBeGreaterThanOrEqual(2);
});

test("20 MiB paced within the executor's retention window, ~20 random cuts: every byte exactly once, in order", async () => {
  await connect();
  // 64 KiB every ~10 ms (≈ 5 MiB/s): a failure (≤ 50 ms stalled, ≤ 30 ms refused, then the
  // first retry) leaves well under the 1 MiB per process the executor retains for process/read.
  const blocks = SIZE / 65536;
  const script = `i=0; while [ $i -lt ${blocks} ]; do dd if=big.bin bs=65536 skip=$i count=1 status=none; i=$((i+1)); sleep 0.01; done`;
  const p = await client.startProcess(sh(script));
  const r = await receiveWithCuts(p);
  expect(r.lost).toBe(0);
  expect(r.bytes.length).toBe(SIZE);
  expect(r.bytes.equals(DATA)).toBe(true);
  expect(r.exitCode).toBe(0);
  expect(r.cuts).toBeGreaterThanOrEqual(CUTS / 2);
  // The last failure's reconnect may still be under way when the process ends.
  await waitUntil(() => client.state === "connected", 10_000, "the last reconnect");
  expect(states.filter((s) => s === "recovering").length).toBe(r.cuts);
});

// At full speed a stalled network (bytes accepted but never delivered, with no
// back-pressure) could swallow any amount, so this test cuts without stalling:
// what is in flight is then bounded by socket buffers and the executor's
// outbox, which its retained output (4 MiB per process) covers; and while the
// session is detached the executor stops reading the child's pipes once that
// window is full instead of evicting unread output.
test("50 MiB from a child as fast as it can write, 100 random cuts, each awaited: every byte exactly once, in order", async () => {
  await connect();
  const p = await client.startProcess(sh("cat big50.bin"));
  const r = await receiveWithCuts(p, { stall: false, size: BIG_SIZE, cuts: 100, paceMs: 5, pauseForRecovery: true });
  expect(r.lost).toBe(0);
  expect(r.bytes.length).toBe(BIG_SIZE);
  expect(r.bytes.equals(BIG_DATA)).toBe(true);
  expect(r.exitCode).toBe(0);
  expect(r.cuts).toBe(100);
  expect(states.filter((s) => s === "recovering").length).toBe(100);
});

test("a process/write caught by a cut is re-sent with the same writeId and applied once", async () => {
  await connect();
  const p = await client.startProcess(sh("cat", { pipeStdin: true }));
  let echoed = "";
  const consumed = (async () => {
    for await (const e of p) if (e.type === "output") echoed += Buffer.from(e.data).toString();
  })();
  const expected: string[] = [];
  for (let i = 0; i < 6; i++) {
    const write = p.write(`w${i}\n`);
    expect(proxy.cut()).toBe(1);
    expect(await write).toBe("accepted");
    expected.push(`w${i}\n`);
    await reconnected(i + 1);
    await waitUntil(() => echoed.length >= expected.join("").length, 10_000, `w${i} to be echoed`);
  }
  // Anything applied twice would have shown up by now.
  await Bun.sleep(100);
  expect(echoed).toBe(expected.join(""));
  expect(states.filter((s) => s === "recovering").length).toBe(6);
  await p.terminate();
  await consumed;
});

test("in-flight calls at a cut: reads are re-sent, others reject as possibly applied; calls while recovering wait", async () => {
  await connect();
  const info = client.call("environment/info");
  const write = client.call("fs/writeFile", { path: `${dir.uri}/w.txt`, dataBase64: "" }).catch((e) => e);
  proxy.refuse(true);
  proxy.cut();
  await waitUntil(() => client.state === "recovering", 5_000, "recovering");
  const queued = client.call("environment/status");
  await Bun.sleep(200);
  proxy.refuse(false);
  expect((await info).executorVersion).toBe(PROTOCOL_VERSION);
  const err = await write;
  expect(err).toBeInstanceOf(ExecboxConnectionError);
  expect([err.method, err.mayHaveApplied]).toEqual(["fs/writeFile", true]);
  expect(err.message).toContain("may or may not have been applied");
  expect(await queued).toEqual({ status: "ready" });
});

test("a file handle does not survive a reconnect: the iterator says so", async () => {
  await connect();
  const file = await client.openFile(join(dir.path, "big.bin"), 4096);
  const it = file[Symbol.asyncIterator]();
  expect((await it.next()).value.byteLength).toBe(4096);
  proxy.cut();
  await reconnected(1);
  const err = await it.next().catch((e) => e);
  expect(err).toBeInstanceOf(ExecboxConnectionError);
  expect(err.message).toContain("dropped this file handle");
});

test("past the recovery deadline the client fails; pending calls and process streams reject", async () => {
  await connect(500);
  const p = await client.startProcess(sh("sleep 30"));
  const failed = new Promise<Error | undefined>((r) => client.on("state", (s, e) => s === "failed" && r(e)));
  proxy.refuse(true);
  proxy.cut();
  const pending = client.call("environment/status").catch((e) => e);
  const error = await failed;
  expect(error?.message).toContain("could not resume the session within 500 ms");
  expect(states).toEqual(["recovering", "failed"]);
  expect(await pending).toBeInstanceOf(ExecboxConnectionError);
  await expect(p.closed).rejects.toBeInstanceOf(ExecboxConnectionError);
  await expect(p[Symbol.asyncIterator]().next()).rejects.toBeInstanceOf(ExecboxConnectionError);
  // The executor keeps the detached session's `sleep`; stopping it with SIGTERM (afterAll) kills it.
});
