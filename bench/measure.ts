/**
 * The three measurements. Each takes a server command (or a running server)
 * and returns raw numbers; `run.ts` interleaves execbox and the reference and
 * turns the numbers into the table.
 */
import { readFileSync } from "node:fs";
import { BenchClient } from "./client.ts";
import { type RunningServer, type ServerCommand, procStatusKiB, resetPeakRss, startServer } from "./servers.ts";

const CHILD_ENV = { PATH: "/usr/bin:/bin" };
const CWD = "file:///tmp";

function startParams(processId: string, argv: string[]) {
  return { processId, argv, cwd: CWD, env: CHILD_ENV, tty: false };
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: Timer | undefined;
  const t = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms)));
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** Nearest-rank percentile of an unsorted sample. */
export function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * s.length));
  return s[Math.min(rank, s.length) - 1]!;
}

/** utime + stime of all threads of `pid`, in seconds. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // fields[0] is field 3 (state); utime/stime are fields 14/15.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

export type LatencyResult = { samples: number[]; p50: number; p99: number; mean: number; max: number };

/** What a latency run starts and where its clock stops: at `closed`, or at its `stopAtOutput`-th `process/output`. */
export type LatencyProbe = { argv: string[]; stopAtOutput?: number };
const ONE_SHOT: LatencyProbe = { argv: ["/bin/true"] };

/**
 * `process/start` of /bin/true → `process/closed` (or `probe`), one
 * connection, strictly sequential. The clock stops when the event arrives;
 * `closed` and the start response are awaited too so runs never overlap.
 */
export async function measureLatency(server: RunningServer, warmup: number, runs: number, extra: object = {}, probe = ONE_SHOT): Promise<LatencyResult> {
  const client = await BenchClient.connect(server.url);
  try {
    await client.handshake();
    return await latencyOn(client, warmup, runs, extra, probe);
  } finally {
    client.close();
  }
}

/** `measureLatency` on an initialized client (any transport). */
export async function latencyOn(client: BenchClient, warmup: number, runs: number, extra: object = {}, probe = ONE_SHOT): Promise<LatencyResult> {
  let waiting: { id: string; outputs: number; stopped: number | null; stop(t: number): void; closed(): void } | null = null;
  client.onNotification = (n) => {
    if (!waiting || n.params.processId !== waiting.id) return;
    const now = performance.now();
    if (n.method === "process/output") waiting.outputs++;
    const stopHere = n.method === "process/closed" || (n.method === "process/output" && waiting.outputs === probe.stopAtOutput);
    if (waiting.stopped === null && stopHere) waiting.stop(now);
    if (n.method === "process/closed") waiting.closed();
  };
  const samples: number[] = [];
  const tag = Date.now().toString(36);
  for (let i = 0; i < warmup + runs; i++) {
    const id = `lat-${tag}-${i}`;
    let stoppedAt = 0;
    const closed = new Promise<void>((resolve) => {
      waiting = { id, outputs: 0, stopped: null, stop: (t) => (waiting!.stopped = stoppedAt = t), closed: resolve };
    });
    const t0 = performance.now();
    const started = client.request("process/start", { ...startParams(id, probe.argv), ...extra });
    await withTimeout(Promise.all([closed, started]), 10_000, `latency run ${i}`);
    waiting = null;
    if (i >= warmup) samples.push(stoppedAt - t0);
  }
  return {
    samples,
    p50: percentile(samples, 50),
    p99: percentile(samples, 99),
    mean: samples.reduce((a, b) => a + b, 0) / samples.length,
    max: Math.max(...samples),
  };
}

/** The line the throughput child repeats (via `yes`); 64 bytes with the newline. */
export const PATTERN_LINE = "execbox-bench 0123456789 abcdefghijklmnopqrstuvwxyz ABCDEFGHIJK";

export type ThroughputResult = {
  bytes: number;
  seconds: number;
  mibPerSec: number;
  peakRssKiB: number;
  frames: number;
  serverCpuSeconds: number;
  clientCpuSeconds: number;
};

/**
 * A fresh server; one child writes `bytes` of a repeating text pattern to
 * stdout; the client decodes every `process/output` chunk, checks it against
 * the pattern (memcmp) and counts bytes. Clock: `process/start` sent →
 * `process/closed` received. Peak RSS is the server's VmHWM afterwards.
 */
export async function measureThroughput(cmd: ServerCommand, bytes: number, source: "yes" | "zero"): Promise<ThroughputResult> {
  const server = await startServer(cmd);
  const client = await BenchClient.connect(server.url);
  try {
    await client.handshake();
    return await throughputOn(client, server.pid, cmd.label, bytes, source);
  } finally {
    client.close();
    await server.kill();
  }
}

/** `measureThroughput` on an initialized client of the executor `pid` (any transport). */
export async function throughputOn(client: BenchClient, pid: number, label: string, bytes: number, source: "yes" | "zero"): Promise<ThroughputResult> {
  const line = source === "yes" ? `${PATTERN_LINE}\n` : "\0";
  const L = line.length;
  const pattern = Buffer.from(line.repeat(Math.ceil((4 << 20) / L) + 1));
  const argv =
    source === "yes"
      ? ["/bin/sh", "-c", `yes '${PATTERN_LINE}' | head -c ${bytes}`]
      : ["/usr/bin/head", "-c", String(bytes), "/dev/zero"];
  // The peak of this run only (not the warm-up's before it on the same executor).
  resetPeakRss(pid);
  let total = 0;
  let frames = 0;
  let lastSeq = 0;
  let problem: string | null = null;
  client.raw = (text) => {
    const m = text.indexOf('"process/output"');
    if (m < 0 || m > 24) return false;
    const c = text.indexOf('"chunk":"') + 9;
    const chunk = Buffer.from(text.slice(c, text.indexOf('"', c)), "base64");
    const s = text.indexOf('"seq":') + 6;
    const seq = parseInt(text.slice(s, s + 20), 10);
    const st = text.indexOf('"stream":"') + 10;
    frames++;
    if (problem === null) {
      if (text.charCodeAt(st + 3) !== 0x6f /* o: std(o)ut */) problem = `stderr output: ${chunk.toString().slice(0, 200)}`;
      else if (!(seq > lastSeq)) problem = `seq ${seq} after ${lastSeq}`;
      else if (!matches(chunk, pattern, total % L, L)) problem = `content mismatch at byte ${total}`;
    }
    lastSeq = seq;
    total += chunk.length;
    return true;
  };
  let exitCode: unknown = null;
  const closed = new Promise<number>((resolve) => {
    client.onNotification = (n) => {
      if (n.params.processId !== "tp") return;
      if (n.method === "process/exited") exitCode = n.params.exitCode;
      if (n.method === "process/closed") resolve(performance.now());
    };
  });
  const cpu0 = cpuSeconds(pid);
  const clientCpu0 = process.cpuUsage();
  const t0 = performance.now();
  const started = client.request("process/start", startParams("tp", argv));
  const [t1] = await withTimeout(Promise.all([closed, started]), 300_000, "throughput run");
  const seconds = (t1 - t0) / 1000;
  const serverCpuSeconds = cpuSeconds(pid) - cpu0;
  const cu = process.cpuUsage(clientCpu0);
  const peakRssKiB = procStatusKiB(pid, "VmHWM");
  if (problem) throw new Error(`${label}: ${problem}`);
  if (exitCode !== 0) throw new Error(`${label}: throughput child exited with ${String(exitCode)}`);
  if (total !== bytes) throw new Error(`${label}: received ${total} bytes, expected ${bytes}`);
  return {
    bytes,
    seconds,
    mibPerSec: bytes / (1 << 20) / seconds,
    peakRssKiB,
    frames,
    serverCpuSeconds,
    clientCpuSeconds: (cu.user + cu.system) / 1e6,
  };
}

/** Does `chunk` equal the pattern stream starting at phase `phase`? */
function matches(chunk: Buffer, pattern: Buffer, phase: number, L: number): boolean {
  const span = pattern.length - L;
  for (let off = 0; off < chunk.length; off += span) {
    const piece = chunk.subarray(off, Math.min(off + span, chunk.length));
    const p = (phase + off) % L;
    if (!piece.equals(pattern.subarray(p, p + piece.length))) return false;
  }
  return true;
}

export type StartupResult = { readyMs: number; urlMs: number; idleRssKiB: number };

/**
 * Spawn → URL on stdout → WebSocket open → `initialize` answered: `readyMs`.
 * Then `initialized`, 1 s idle, and the server's VmRSS.
 */
export async function measureStartup(cmd: ServerCommand, idleMs = 1000): Promise<StartupResult> {
  const server = await startServer(cmd);
  try {
    const client = await BenchClient.connect(server.url);
    await client.handshake();
    const readyMs = performance.now() - server.spawnedAt;
    await Bun.sleep(idleMs);
    const idleRssKiB = procStatusKiB(server.pid, "VmRSS");
    client.close();
    return { readyMs, urlMs: server.urlAfterMs, idleRssKiB };
  } finally {
    await server.kill();
  }
}
