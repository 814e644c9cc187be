#!/usr/bin/env bun
/**
 * `bun bench/remote.ts [--quick] [--source] [--no-write]`: remote mode (`--remote`, Noise
 * streams through a rendezvous), execbox against the reference in the same run.
 *
 * Both executors register with the same fake registry and dial the same
 * routing fake rendezvous (test/helpers), all on 127.0.0.1; the harness is
 * `connectRemote`'s connector (registry connect, relay socket, hybridIK,
 * Noise records) under the thin BenchClient. Fresh executor per measurement,
 * execbox and the reference alternating:
 *
 * 1. `/bin/true` start → `process/closed` on one stream, p50/p99;
 * 2. 64 MiB of stdout (`head -c N /dev/zero`), every byte checked: MiB/s, executor VmHWM, CPU;
 * 3. `fs/open` + 1 MiB `fs/readBlock` of a 64 MiB file, CRC-checked: MiB/s, VmHWM;
 * 4. streams opened one after another: executor CPU per handshake, streams/s;
 * 5. 200 requests pipelined on one stream, and 60 streams opened at once: what is lost.
 *
 * The registry and the rendezvous run in a second Bun process
 * (`remote-relay.ts`); the harness runs here. Writes "## Remote mode (…)" into bench/results.md.
 */
import { type BenchClient } from "./client.ts";
import { type BlockReadResult, blockReadOn, writeBenchFile } from "./fs.ts";
import { type LatencyResult, type ThroughputResult, cpuSeconds, latencyOn, percentile, throughputOn } from "./measure.ts";
import { type Burst, type HandshakeResult, concurrentStreams, describeBurst, measureHandshakes, pipelined } from "./remote-load.ts";
import { type Relay, type RemoteExecutor, harnessConnector, openStream, startRelay, withExecutor } from "./remote-executors.ts";
import { type Row, sectionHead, table, writeResultsSection } from "./results-file.ts";
import { type ServerCommand, execboxCommand, makeTempDir, referenceCommand, runBench } from "./servers.ts";

const MiB = 1 << 20;
const args = process.argv.slice(2);
for (const a of args) if (!["--quick", "--source", "--no-write"].includes(a)) throw new Error(`unknown option ${a}`);
const quick = args.includes("--quick");
const plan = quick
  ? { warmup: 5, runs: 50, tpRuns: 1, blockRuns: 1, handshakeWarmup: 5, handshakes: 10, burst: 200, streams: 60 }
  : { warmup: 20, runs: 300, tpRuns: 3, blockRuns: 3, handshakeWarmup: 20, handshakes: 50, burst: 200, streams: 60 };
const BYTES = 64 * MiB;
/**
 * Streamed (or read) on the same executor, on a stream of its own, before
 * each measured run: a deployed executor is long-running, so the figures are
 * its steady state, not a fresh JIT's first pass (on a fresh Bun executor the
 * first 64 MiB cost ~50% more CPU than the next). Both executors get it.
 */
const WARM_UP_BYTES = 16 * MiB;
const log = (msg: string) => console.error(`[remote] ${msg}`);

type Side = {
  latency: LatencyResult;
  throughput: (ThroughputResult & { relayCpuSeconds: number })[];
  blocks: (BlockReadResult & CpuSplit)[];
  handshakes: HandshakeResult;
  statusBurst: Burst;
  startBurst: Burst;
  streams: Burst & { executorSaid?: string };
};

/** `fn` once per executor, `rounds` times, alternating, each on a fresh executor. */
async function alternate<T>(cmds: ServerCommand[], relay: Relay, rounds: number, what: string, fn: (c: BenchClient, e: RemoteExecutor) => Promise<T>): Promise<T[][]> {
  const out: T[][] = cmds.map(() => []);
  for (let round = 0; round < rounds; round++) {
    for (const [i, cmd] of cmds.entries()) {
      const r = await withExecutor(cmd, relay, fn);
      log(`${what} ${round + 1}/${rounds}, ${cmd.label}: ${JSON.stringify(r, (k, v) => (k === "samples" ? undefined : typeof v === "number" ? +v.toFixed(2) : v))}`);
      out[i]!.push(r);
    }
  }
  return out;
}

async function measure(cmds: ServerCommand[], relay: Relay): Promise<Side[]> {
  const file = writeBenchFile(makeTempDir("execbox-bench-remote-fs-"), "block-read.bin", BYTES);
  const latency = await alternate(cmds, relay, 1, "latency", (c) => latencyOn(c, plan.warmup, plan.runs));
  const warmFile = writeBenchFile(makeTempDir("execbox-bench-remote-fs-"), "warm-up.bin", WARM_UP_BYTES);
  const throughput = await alternate(cmds, relay, plan.tpRuns, "throughput", async (c, e) => {
    await onFreshStream(relay, (warm) => throughputOn(warm, e.pid, e.label, WARM_UP_BYTES, "zero"));
    const relayCpu0 = cpuSeconds(relay.pid);
    const r = await throughputOn(c, e.pid, e.label, BYTES, "zero");
    return { ...r, relayCpuSeconds: cpuSeconds(relay.pid) - relayCpu0 };
  });
  const blocks = await alternate(cmds, relay, plan.blockRuns, "fs/readBlock", async (c, e) => {
    await onFreshStream(relay, (warm) => blockReadOn(warm, e.pid, e.label, warmFile));
    return withCpuSplit(relay, () => blockReadOn(c, e.pid, e.label, file));
  });
  const handshakes = await alternate(cmds, relay, 1, "handshakes", (_, e) => measureHandshakes(relay, e, plan.handshakes, plan.handshakeWarmup));
  const bursts = await alternate(cmds, relay, 1, "pipelined", async (c) => {
    const statusBurst = await pipelined(c, plan.burst, "environment/status", () => ({}));
    const fresh = await openStream(relay, harnessConnector(relay.registryUrl));
    try {
      const startBurst = await pipelined(fresh, plan.burst, "process/start", (i) => ({ processId: `burst-${i}`, argv: ["/bin/true"], cwd: "file:///tmp", env: {}, tty: false }));
      return { statusBurst, startBurst };
    } finally {
      fresh.close();
    }
  });
  const streams = await alternate(cmds, relay, 1, "streams at once", async (_, e) => {
    const burst = await concurrentStreams(relay, plan.streams);
    return burst.ok === burst.sent ? burst : { ...burst, executorSaid: executorReasons(e.stderr()) };
  });
  return cmds.map((_, i) => ({
    latency: latency[i]![0]!,
    throughput: throughput[i]!,
    blocks: blocks[i]!,
    handshakes: handshakes[i]![0]!,
    ...bursts[i]![0]!,
    streams: streams[i]![0]!,
  }));
}

/** CPU the harness (this process) and the relay process spent, and the wall time, while `fn` ran. */
type CpuSplit = { harnessCpuSeconds: number; relayCpuSeconds: number; wallSeconds: number };

async function withCpuSplit<T>(relay: Relay, fn: () => Promise<T>): Promise<T & CpuSplit> {
  const relay0 = cpuSeconds(relay.pid);
  const harness0 = process.cpuUsage();
  const t0 = performance.now();
  const r = await fn();
  const harness = process.cpuUsage(harness0);
  return {
    ...r,
    wallSeconds: (performance.now() - t0) / 1000,
    harnessCpuSeconds: (harness.user + harness.system) / 1e6,
    relayCpuSeconds: cpuSeconds(relay.pid) - relay0,
  };
}

/** `fn` on a stream of its own beside the measured one (its own connector: the relay's would reset that one), closed afterwards. */
async function onFreshStream<T>(relay: Relay, fn: (c: BenchClient) => Promise<T>): Promise<T> {
  const c = await openStream(relay, harnessConnector(relay.registryUrl));
  try {
    return await fn(c);
  } finally {
    c.close();
  }
}

/** What the executor logged about streams it closed or refused, ids removed, each line once. */
function executorReasons(stderr: string): string {
  const lines = stderr.split("\n").filter((l) => /closed:|refus|too many|pending|validat/i.test(l) && !/reset by the harness/.test(l));
  return [...new Set(lines.map((l) => l.replace(/[0-9a-f-]{36}/g, "<id>").trim()))].slice(0, 3).join(" / ");
}

const median = (v: number[]) => percentile(v, 50);

function rows(exec: Side, ref: Side): Row[] {
  const tp = (s: Side) => median(s.throughput.map((t) => t.mibPerSec));
  const hwm = (s: Side) => Math.max(...s.throughput.map((t) => t.peakRssKiB)) / 1024;
  const cpuPerGiB = (s: Side) => median(s.throughput.map((t) => (t.serverCpuSeconds / t.bytes) * 1024 * MiB));
  const blockTp = (s: Side) => median(s.blocks.map((b) => b.mibPerSec));
  const blockHwm = (s: Side) => Math.max(...s.blocks.map((b) => b.peakRssKiB)) / 1024;
  return [
    { metric: "One-shot latency p50 (ms)", exec: exec.latency.p50, ref: ref.latency.p50, digits: 2, better: "lower", target: { limit: 0.5 * ref.latency.p50, text: "≤ 0.5× ref" } },
    { metric: "One-shot latency p99 (ms)", exec: exec.latency.p99, ref: ref.latency.p99, digits: 2, better: "lower" },
    { metric: "64 MiB stdout throughput (MiB/s, median)", exec: tp(exec), ref: tp(ref), digits: 0, better: "higher", target: { limit: 1.5 * tp(ref), text: "≥ 1.5× ref" } },
    { metric: "Peak executor RSS during it (MiB, VmHWM)", exec: hwm(exec), ref: hwm(ref), digits: 1, better: "lower", target: { limit: hwm(ref), text: "≤ ref" } },
    { metric: "Executor CPU per GiB streamed (s)", exec: cpuPerGiB(exec), ref: cpuPerGiB(ref), digits: 2, better: "lower" },
    { metric: "fs/readBlock of 64 MiB, 1 MiB blocks (MiB/s, median)", exec: blockTp(exec), ref: blockTp(ref), digits: 0, better: "higher" },
    { metric: "Peak executor RSS during it (MiB, VmHWM)", exec: blockHwm(exec), ref: blockHwm(ref), digits: 1, better: "lower" },
    { metric: "Executor CPU per stream opened (ms)", exec: exec.handshakes.executorCpuMsPerStream, ref: ref.handshakes.executorCpuMsPerStream, digits: 2, better: "lower" },
    { metric: "Streams opened per second, one at a time", exec: exec.handshakes.perSecond, ref: ref.handshakes.perSecond, digits: 0, better: "higher" },
  ];
}

function details(sides: Side[]): string {
  const out = ["| Detail | execbox | reference |", "|---|---|---|"];
  const row = (name: string, f: (s: Side) => string) => out.push(`| ${name} | ${sides.map(f).join(" | ")} |`);
  row("latency mean / min / max (ms)", (s) => `${s.latency.mean.toFixed(2)} / ${Math.min(...s.latency.samples).toFixed(2)} / ${s.latency.max.toFixed(2)}`);
  row("throughput runs (MiB/s)", (s) => s.throughput.map((t) => t.mibPerSec.toFixed(0)).join(", "));
  row("throughput VmHWM per run (MiB)", (s) => s.throughput.map((t) => (t.peakRssKiB / 1024).toFixed(1)).join(", "));
  row("`process/output` messages per run", (s) => s.throughput.map((t) => t.frames).join(", "));
  row("CPU s per run: executor / harness / relay process", (s) =>
    s.throughput.map((t) => `${t.serverCpuSeconds.toFixed(2)} / ${t.clientCpuSeconds.toFixed(2)} / ${t.relayCpuSeconds.toFixed(2)}`).join(", "),
  );
  row("fs/readBlock runs (MiB/s)", (s) => s.blocks.map((b) => b.mibPerSec.toFixed(0)).join(", "));
  row("fs/readBlock RSS before → VmHWM (MiB)", (s) => s.blocks.map((b) => `${(b.rssBeforeKiB / 1024).toFixed(1)} → ${(b.peakRssKiB / 1024).toFixed(1)}`).join(", "));
  row("fs/readBlock CPU s per run: executor / harness / relay process (wall s)", (s) =>
    s.blocks.map((b) => `${b.serverCpuSeconds.toFixed(2)} / ${b.harnessCpuSeconds.toFixed(2)} / ${b.relayCpuSeconds.toFixed(2)} (${b.wallSeconds.toFixed(2)})`).join(", "),
  );
  row("fs/readBlock executor CPU ÷ wall (one request at a time, so an executor that cost nothing would be at most 1 ÷ (1 − this) as fast)", (s) =>
    s.blocks.map((b) => (b.serverCpuSeconds / b.wallSeconds).toFixed(2)).join(", "),
  );
  row(`${plan.burst} \`environment/status\` pipelined on one stream`, (s) => describeBurst(s.statusBurst));
  row(`${plan.burst} \`process/start\` (/bin/true) pipelined on one stream`, (s) => describeBurst(s.startBurst));
  row(`${plan.streams} streams opened at once (each initialized)`, (s) => describeBurst(s.streams) + (s.streams.executorSaid ? ` (executor log: ${s.streams.executorSaid})` : ""));
  return out.join("\n");
}

async function main(): Promise<void> {
  const cmds = [execboxCommand(args.includes("--source")), referenceCommand()];
  const relay = await startRelay();
  let sides: Side[];
  try {
    sides = await measure(cmds, relay);
  } finally {
    await relay.stop();
  }
  const how =
    `- \`bun bench/remote.ts ${args.join(" ")}\`: ${cmds[0]!.label} vs ${cmds[1]!.label}, both \`--remote\` (noise) against one fake registry + routing fake rendezvous on 127.0.0.1;` +
    ` harness = \`connectRemote\`'s connector under the thin bench client; fresh executor per measurement, alternating;` +
    ` latency ${plan.warmup} warm-ups + ${plan.runs} runs; throughput \`head -c ${BYTES} /dev/zero\`, ${plan.tpRuns} run(s), every byte checked;` +
    ` fs/readBlock ${plan.blockRuns} run(s), CRC-checked; each throughput and fs/readBlock run follows a ${WARM_UP_BYTES / MiB} MiB warm-up of the same kind on the same executor (its own stream); ${plan.handshakes} streams opened and reset one after another (no initialize), after ${plan.handshakeWarmup} not measured.` +
    ` The harness (this Bun thread) and the registry + rendezvous (a second Bun process, \`bench/remote-relay.ts\`, which pauses a sender while the socket it forwards to is backed up) are JavaScript on the same 2 cores: they cap throughput for both executors, so the executor CPU figures say more than the MiB/s.`;
  const text = [sectionHead("Remote mode (noise, through a rendezvous)", how), table(rows(sides[0]!, sides[1]!)), "", details(sides), ""].join("\n");
  console.log(text);
  if (args.includes("--no-write")) return;
  writeResultsSection(text);
  log("wrote bench/results.md");
}

await runBench("remote", main);
