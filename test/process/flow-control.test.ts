/**
 * A client that stops reading stops the child, for pipes and for a PTY: the
 * executor neither buffers the output without bound nor drops any of it.
 * The client is a raw TCP WebSocket that really stops reading, so the
 * executor meets real back-pressure.
 */
import { afterEach, expect, setDefaultTimeout, test } from "bun:test";
import { childWritten } from "../helpers/proc.ts";
import { RawWs } from "../helpers/raw-ws.ts";
import { type RunningServer, startServer } from "../helpers/server.ts";
import { waitUntil, waitUntilSteady } from "../helpers/wait.ts";

setDefaultTimeout(60_000);

const MiB = 1 << 20;
const TOTAL = 128 * MiB;
/** What may be in flight while the client reads nothing: socket buffers, the outbox, a PTY's buffer. */
const IN_FLIGHT_BOUND = 32 * MiB;
/** The child counts as blocked once its written bytes stop moving for this many 50 ms samples. */

let server: RunningServer | null = null;
afterEach(async () => {
  await server?.stop("SIGKILL");
  server = null;
});

/** `nonZero` counts the first TOTAL bytes only; whatever follows them is kept in `after`. */
type Run = { received: number; nonZero: number; after: string; seqs: number[]; stream: Set<string>; exitCode: number | null; closed: boolean };

type Call = (id: number, method: string, params: unknown) => Promise<{ result?: unknown; error?: unknown }>;

/** `whileBlocked` runs while the client reads nothing and the child is blocked. */
async function stalledRun(
  tty: boolean,
  argv = ["/usr/bin/head", "-c", String(TOTAL), "/dev/zero"],
  whileBlocked: (call: Call) => Promise<void> = async () => {},
  startExtra: Record<string, unknown> = {},
): Promise<{ blockedAt: number; run: Run }> {
  server = await startServer();
  const ws = await RawWs.connect(server.url);
  const run: Run = { received: 0, nonZero: 0, after: "", seqs: [], stream: new Set(), exitCode: null, closed: false };
  const replies = new Map<number, (m: { result?: unknown; error?: unknown }) => void>();
  ws.onText = (text) => {
    const m = JSON.parse(text) as { id?: number; method?: string; params?: { seq: number; stream?: string; chunk?: string; exitCode?: number }; result?: unknown; error?: unknown };
    if (typeof m.id === "number") return replies.get(m.id)?.(m);
    if (!m.params) return;
    run.seqs.push(m.params.seq);
    if (m.method === "process/output") {
      const bytes = Buffer.from(m.params.chunk!, "base64");
      const zeros = Math.max(0, Math.min(bytes.length, TOTAL - run.received));
      for (let i = 0; i < zeros; i++) if (bytes[i] !== 0) run.nonZero++;
      run.after += bytes.subarray(zeros).toString("latin1");
      run.received += bytes.length;
      run.stream.add(m.params.stream!);
    } else if (m.method === "process/exited") run.exitCode = m.params.exitCode!;
    else if (m.method === "process/closed") run.closed = true;
  };
  const call: Call = (id, method, params) =>
    new Promise((resolve) => {
      replies.set(id, resolve);
      ws.text(JSON.stringify({ id, method, params }));
    });
  try {
    expect((await call(1, "initialize", { clientName: "flow-control-test" })).error).toBeUndefined();
    ws.text(JSON.stringify({ method: "initialized", params: {} }));
    const started = call(2, "process/start", { processId: "p", argv, cwd: "file:///tmp", env: { PATH: "/usr/bin:/bin" }, tty, ...startExtra });
    ws.pause();
    // Not before the child exists: "no child yet" must not read as "wrote everything" (a race under load).
    await waitUntil(() => childWritten(server!.proc.pid) !== null, 10_000, "the child to start");
    // The child is blocked once its written bytes stop moving (or it wrote everything: not blocked at all).
    const blockedAt = await waitUntilSteady(() => childWritten(server!.proc.pid) ?? Number.POSITIVE_INFINITY, "the child to block", { done: (n) => n >= TOTAL });
    await whileBlocked(call);
    ws.resume();
    expect((await started).error).toBeUndefined();
    await waitUntil(() => run.closed, 30_000, "process/closed");
    return { blockedAt, run };
  } finally {
    ws.close();
  }
}

function expectEverything(run: Run, stream: string): void {
  expect([run.received, run.nonZero, run.exitCode, [...run.stream]]).toEqual([TOTAL, 0, 0, [stream]]);
  // One seq counter, contiguous from 1: every output chunk, then exited, then closed.
  expect(run.seqs).toEqual(run.seqs.map((_, i) => i + 1));
}

test("pipes: the child blocks while the client reads nothing; every byte arrives afterwards", async () => {
  const { blockedAt, run } = await stalledRun(false);
  expect(blockedAt).toBeLessThan(IN_FLIGHT_BOUND);
  expectEverything(run, "stdout");
});

test("PTY: the terminal is stopped while the client reads nothing; every byte arrives afterwards", async () => {
  const { blockedAt, run } = await stalledRun(true);
  expect(blockedAt).toBeLessThan(IN_FLIGHT_BOUND);
  expectEverything(run, "pty");
});

test("PTY: a program that turned flow control off is still stopped, and finds its own settings afterwards", async () => {
  const script = `stty -ixon ixany; head -c ${TOTAL} /dev/zero; stty -a`;
  const { blockedAt, run } = await stalledRun(true, ["/bin/sh", "-c", script]);
  expect(blockedAt).toBeLessThan(IN_FLIGHT_BOUND);
  expect([run.nonZero, run.exitCode]).toEqual([0, 0]);
  // stty prints the flags as the program left them: IXON off, IXANY on.
  expect(run.after).toMatch(/(^|\s)-ixon(\s|$)/);
  expect(run.after).toMatch(/(^|\s)ixany(\s|$)/);
});

test("a request still works while the client reads nothing: process/terminate kills the blocked child", async () => {
  const { blockedAt, run } = await stalledRun(false, undefined, async (call) => {
    // Its answer cannot be read yet; the kill must happen anyway.
    void call(3, "process/terminate", { processId: "p" });
    await waitUntil(() => childWritten(server!.proc.pid) === null, 10_000, "the child to be killed");
  });
  expect(blockedAt).toBeLessThan(IN_FLIGHT_BOUND);
  expect(run.received).toBeLessThan(TOTAL);
  expect([run.nonZero, run.exitCode, run.closed]).toEqual([0, 137, true]);
  expect(run.seqs).toEqual(run.seqs.map((_, i) => i + 1));
});

test("idleTimeoutMs does not fire while the client holds the output back: the child is blocked, not idle", async () => {
  // Blocked for the steadiness check (≥ 500 ms) and 1.5 s more: 4× the idle timeout without a byte read, then everything, exit 0.
  const { run } = await stalledRun(false, undefined, () => Bun.sleep(1_500), { idleTimeoutMs: 500 });
  expectEverything(run, "stdout");
});
