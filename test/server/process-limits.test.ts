/**
 * Regression: nothing bounded the processes or sessions one client could make
 * the executor hold. Now: 64 running processes per session, `--max-processes`
 * in the executor, 1 GiB of retained output per session (each running process
 * counting its whole window), 1,024 closed processes kept per session, and
 * `--max-sessions` attached or detached — each refused with -32600.
 */
import { afterEach, expect, setDefaultTimeout, test } from "bun:test";
import {
  MAX_EXITED_PROCESSES_PER_SESSION,
  MAX_RUNNING_PROCESSES_PER_SESSION,
  MAX_RETAINED_OUTPUT_BYTES_PER_SESSION,
} from "../../src/server/limits.ts";
import { RawClient } from "../helpers/rpc-client.ts";
import { type RunningServer, startServer } from "../helpers/server.ts";
import { waitUntil } from "../helpers/wait.ts";

setDefaultTimeout(60_000);

let server: RunningServer | null = null;
const clients: RawClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await server?.stop("SIGKILL");
  server = null;
});

async function client(resumeSessionId?: string): Promise<RawClient> {
  const c = await RawClient.websocket(server!.url);
  clients.push(c);
  await c.initialize("limits-test", resumeSessionId);
  return c;
}

/** `initialize` on a new connection; returns its response frame. */
async function initialize(params: object): Promise<Record<string, any>> {
  const c = await RawClient.websocket(server!.url);
  clients.push(c);
  return c.call("initialize", params);
}

const start = (c: RawClient, processId: string, argv = ["sleep", "600"]) =>
  c.call("process/start", { processId, argv, cwd: `file://${process.cwd()}`, env: {}, tty: false });

async function terminateAndWait(c: RawClient, processId: string): Promise<void> {
  await c.ok("process/terminate", { processId });
  await c.processDone(processId);
}

test(`regression: a session's ${MAX_RUNNING_PROCESSES_PER_SESSION + 1}th running process is refused; a closed one frees its place`, async () => {
  server = await startServer(["--retained-output-bytes", "1048576"]);
  const c = await client();
  for (let i = 0; i < MAX_RUNNING_PROCESSES_PER_SESSION; i++) expect((await start(c, `p${i}`)).result?.processId).toBe(`p${i}`);
  expect((await start(c, "one-more")).error).toEqual({
    code: -32600,
    message: "process/start refused: this session already has 64 running processes, the most it may have at once",
  });
  // Another session is not affected.
  expect((await start(await client(), "elsewhere")).result?.processId).toBe("elsewhere");
  await terminateAndWait(c, "p0");
  expect((await start(c, "one-more")).result?.processId).toBe("one-more");
});

test("regression: past --max-processes in the executor, any session's start is refused", async () => {
  server = await startServer(["--max-processes", "3"]);
  const [a, b] = [await client(), await client()];
  for (const [c, id] of [[a, "a1"], [a, "a2"], [b, "b1"]] as const) expect((await start(c, id)).result?.processId).toBe(id);
  expect((await start(b, "b2")).error).toEqual({
    code: -32600,
    message: "process/start refused: this executor already runs 3 processes, the most it may (--max-processes)",
  });
  await terminateAndWait(a, "a1");
  expect((await start(b, "b2")).result?.processId).toBe("b2");
});

test("regression: a session's processes may retain 1 GiB of output, each running one counting its whole window", async () => {
  const window = MAX_RETAINED_OUTPUT_BYTES_PER_SESSION / 4;
  server = await startServer(["--retained-output-bytes", String(window)]);
  const c = await client();
  for (let i = 0; i < 4; i++) expect((await start(c, `w${i}`)).result?.processId).toBe(`w${i}`);
  expect((await start(c, "w4")).error).toEqual({
    code: -32600,
    message: `process/start refused: this session's processes may retain at most 1073741824 bytes of output, and another needs ${window} (--retained-output-bytes)`,
  });
  // Closed, w0 holds only the output it wrote (none): room for one more.
  await terminateAndWait(c, "w0");
  expect((await start(c, "w4")).result?.processId).toBe("w4");
});

test(`past ${MAX_EXITED_PROCESSES_PER_SESSION} closed processes, the oldest is forgotten early`, async () => {
  server = await startServer();
  const c = await client();
  // `process/closed` frames seen so far, read incrementally (thousands of frames: rescanning them all per wait is quadratic).
  const closed = new Set<string>();
  let scanned = 0;
  const allClosed = (ids: string[]) => {
    for (; scanned < c.frames.length; scanned++) if (c.frames[scanned]!.method === "process/closed") closed.add(c.frames[scanned]!.params.processId);
    return ids.every((id) => closed.has(id));
  };
  const run = async (ids: string[]) => {
    const starts = await Promise.all(ids.map((id) => start(c, id, ["true"])));
    expect(starts.map((f) => f.result?.processId)).toEqual(ids);
    await waitUntil(() => allClosed(ids), 10_000, `${ids.length} processes to close`);
  };
  // t0 closes first; then 1,023 more in batches, so 1,024 are closed before t1024 starts.
  await run(["t0"]);
  for (let i = 1; i < MAX_EXITED_PROCESSES_PER_SESSION; i += 32) {
    await run(Array.from({ length: Math.min(32, MAX_EXITED_PROCESSES_PER_SESSION - i) }, (_, k) => `t${i + k}`));
  }
  expect((await c.ok("process/read", { processId: "t0" })).closed).toBe(true);
  await run([`t${MAX_EXITED_PROCESSES_PER_SESSION}`]);
  expect((await c.call("process/read", { processId: "t0" })).error).toEqual({ code: -32600, message: "unknown process id t0" });
  expect((await c.ok("process/read", { processId: "t1" })).closed).toBe(true);
});

test("regression: past --max-sessions (attached or detached), initialize is refused; a resume is not", async () => {
  server = await startServer(["--max-sessions", "2", "--detached-session-ttl-ms", "300"]);
  const a = await client();
  const b = await client();
  const sessionB: string = (b.frames.find((f) => f.result?.sessionId) as { result: { sessionId: string } }).result.sessionId;
  expect((await initialize({ clientName: "third" })).error).toEqual({
    code: -32600,
    message: "initialize refused: this executor already holds 2 sessions, attached or detached (--max-sessions)",
  });
  b.close();
  await b.waitClosed();
  // Detached, b's session still counts, and may be resumed (once the executor has seen b go).
  await waitUntil(async () => !(await initialize({ clientName: "b-again", resumeSessionId: sessionB })).error, 10_000, "b's session to be resumable");
  a.close();
  await a.waitClosed();
  // Once a's session has expired after its detach window, a new one fits.
  await waitUntil(async () => !(await initialize({ clientName: "later" })).error, 10_000, "a free session slot");
});
