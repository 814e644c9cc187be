#!/usr/bin/env bun
/**
 * `bun run bench [--quick] [--source] [--zero]`: execbox vs the reference
 * `codex exec-server`, measured in the same run and side by side.
 *
 *   --quick   smoke run: fewer iterations, 64 MiB throughput and fs/readBlock file
 *   --source  run execbox from source (bun src/cli/main.ts) instead of a
 *             freshly compiled binary ($EXECBOX_BIN overrides both)
 *   --zero    throughput child is `head -c N /dev/zero` instead of `yes | head`
 *
 * Env: EXECBOX_BIN (execbox binary), CODEX_BIN (reference binary).
 * Prints a markdown table and writes it to bench/results.md.
 */
import { type Row, table, writeMainResults } from "./results-file.ts";
import { join } from "node:path";
import { type LatencyResult, type StartupResult, type ThroughputResult, measureLatency, measureStartup, measureThroughput, percentile } from "./measure.ts";
import { type BlockReadResult, type ReadFileResult, measureBlockRead, measureReadFile, writeBenchFile } from "./fs.ts";
import { REPO, type ServerCommand, execboxCommand, killAll, machineInfo, makeTempDir, referenceCommand, startServer } from "./servers.ts";

type Options = { quick: boolean; source: boolean; zero: boolean };

function parseOptions(argv: string[]): Options {
  const known = new Set(["--quick", "--source", "--zero"]);
  for (const a of argv) if (!known.has(a)) throw new Error(`unknown option ${a} (known: ${[...known].join(" ")})`);
  return { quick: argv.includes("--quick"), source: argv.includes("--source"), zero: argv.includes("--zero") };
}

const MiB = 1 << 20;

type Plan = {
  warmup: number;
  runs: number;
  tpBytes: number;
  tpRuns: number;
  starts: number;
  blockFileBytes: number;
  blockRuns: number;
  readFileBytes: number;
  readFileRuns: number;
};

type Side = { latency: LatencyResult; throughput: ThroughputResult[]; startup: StartupResult[]; blocks: BlockReadResult[]; readFile: ReadFileResult };

function median(values: number[]): number {
  return percentile(values, 50);
}

async function latencyOf(cmd: ServerCommand, plan: Plan): Promise<LatencyResult> {
  const server = await startServer(cmd);
  try {
    return await measureLatency(server, plan.warmup, plan.runs);
  } finally {
    await server.kill();
  }
}

function log(msg: string): void {
  console.error(`[bench] ${msg}`);
}

async function measureBoth(cmds: ServerCommand[], plan: Plan, opts: Options): Promise<Side[]> {
  const sides: Partial<Side>[] = cmds.map(() => ({ throughput: [], startup: [], blocks: [] }));
  for (const [i, cmd] of cmds.entries()) {
    log(`latency: ${cmd.label}, ${plan.warmup} warm-ups + ${plan.runs} runs`);
    const r = await latencyOf(cmd, plan);
    sides[i]!.latency = r;
    log(`  p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms`);
  }
  // Interleaved so drift in machine load hits both sides alike.
  for (let run = 0; run < plan.tpRuns; run++) {
    for (const [i, cmd] of cmds.entries()) {
      log(`throughput ${run + 1}/${plan.tpRuns}: ${cmd.label}, ${plan.tpBytes / MiB} MiB`);
      const r = await measureThroughput(cmd, plan.tpBytes, opts.zero ? "zero" : "yes");
      sides[i]!.throughput!.push(r);
      log(`  ${r.mibPerSec.toFixed(0)} MiB/s, VmHWM ${(r.peakRssKiB / 1024).toFixed(1)} MiB, ${r.frames} frames, server CPU ${r.serverCpuSeconds.toFixed(2)} s`);
    }
  }
  const dir = makeTempDir("execbox-bench-fs-");
  const bigFile = writeBenchFile(dir, "block-read.bin", plan.blockFileBytes);
  const midFile = writeBenchFile(dir, "read-file.bin", plan.readFileBytes);
  for (let run = 0; run < plan.blockRuns; run++) {
    for (const [i, cmd] of cmds.entries()) {
      log(`fs/readBlock ${run + 1}/${plan.blockRuns}: ${cmd.label}, ${plan.blockFileBytes / MiB} MiB in 1 MiB blocks`);
      const r = await measureBlockRead(cmd, bigFile);
      sides[i]!.blocks!.push(r);
      log(`  ${r.mibPerSec.toFixed(0)} MiB/s, RSS ${(r.rssBeforeKiB / 1024).toFixed(1)} → VmHWM ${(r.peakRssKiB / 1024).toFixed(1)} MiB, server CPU ${r.serverCpuSeconds.toFixed(2)} s`);
    }
  }
  for (const [i, cmd] of cmds.entries()) {
    log(`fs/readFile: ${cmd.label}, ${plan.readFileBytes / MiB} MiB, 3 warm-ups + ${plan.readFileRuns} runs`);
    const r = await measureReadFile(cmd, midFile, 3, plan.readFileRuns);
    sides[i]!.readFile = r;
    log(`  p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, VmHWM ${(r.peakRssKiB / 1024).toFixed(1)} MiB`);
  }
  for (let run = 0; run < plan.starts; run++) {
    for (const [i, cmd] of cmds.entries()) {
      const r = await measureStartup(cmd);
      sides[i]!.startup!.push(r);
      log(`startup ${run + 1}/${plan.starts}: ${cmd.label}: ready ${r.readyMs.toFixed(1)} ms, idle RSS ${(r.idleRssKiB / 1024).toFixed(1)} MiB`);
    }
  }
  return sides as Side[];
}

function rows(exec: Side, ref: Side): Row[] {
  const tp = (s: Side) => median(s.throughput.map((t) => t.mibPerSec));
  const hwm = (s: Side) => Math.max(...s.throughput.map((t) => t.peakRssKiB)) / 1024;
  const ready = (s: Side) => median(s.startup.map((t) => t.readyMs));
  const idle = (s: Side) => median(s.startup.map((t) => t.idleRssKiB)) / 1024;
  const cpuPerGiB = (s: Side) => median(s.throughput.map((t) => (t.serverCpuSeconds / t.bytes) * 1024 * MiB));
  const blockTp = (s: Side) => median(s.blocks.map((b) => b.mibPerSec));
  const blockHwm = (s: Side) => Math.max(...s.blocks.map((b) => b.peakRssKiB)) / 1024;
  return [
    { metric: "One-shot latency p50 (ms)", exec: exec.latency.p50, ref: ref.latency.p50, digits: 2, better: "lower", target: { limit: 5, text: "≤ 5" } },
    { metric: "One-shot latency p99 (ms)", exec: exec.latency.p99, ref: ref.latency.p99, digits: 2, better: "lower", target: { limit: 10, text: "≤ 10" } },
    { metric: "Throughput (MiB/s, median)", exec: tp(exec), ref: tp(ref), digits: 0, better: "higher" },
    { metric: "Peak RSS during throughput (MiB, VmHWM)", exec: hwm(exec), ref: hwm(ref), digits: 1, better: "lower" },
    { metric: "Server CPU per GiB streamed (s)", exec: cpuPerGiB(exec), ref: cpuPerGiB(ref), digits: 2, better: "lower" },
    {
      metric: "fs/readBlock, 1 MiB blocks (MiB/s, median)",
      exec: blockTp(exec),
      ref: blockTp(ref),
      digits: 0,
      better: "higher",
      target: { limit: 1.5 * blockTp(ref), text: "≥ 1.5× ref" },
    },
    { metric: "Peak RSS during fs/readBlock (MiB, VmHWM)", exec: blockHwm(exec), ref: blockHwm(ref), digits: 1, better: "lower" },
    { metric: "fs/readFile p50 (ms)", exec: exec.readFile.p50, ref: ref.readFile.p50, digits: 1, better: "lower", target: { limit: 35, text: "≤ 35" } },
    { metric: "Startup to initialize response (ms, median)", exec: ready(exec), ref: ready(ref), digits: 1, better: "lower" },
    { metric: "Idle RSS 1 s after initialize (MiB, median)", exec: idle(exec), ref: idle(ref), digits: 1, better: "lower" },
  ];
}

function details(cmds: ServerCommand[], sides: Side[]): string {
  const out = ["| Detail | " + cmds.map((c) => c.kind).join(" | ") + " |", "|---|" + cmds.map(() => "---:").join("|") + "|"];
  const row = (name: string, f: (s: Side) => string) => out.push(`| ${name} | ${sides.map(f).join(" | ")} |`);
  row("latency mean / max (ms)", (s) => `${s.latency.mean.toFixed(2)} / ${s.latency.max.toFixed(2)}`);
  row("latency min (ms)", (s) => Math.min(...s.latency.samples).toFixed(2));
  row("throughput runs (MiB/s)", (s) => s.throughput.map((t) => t.mibPerSec.toFixed(0)).join(", "));
  row("output frames per run", (s) => s.throughput.map((t) => t.frames).join(", "));
  row("server CPU s per run", (s) => s.throughput.map((t) => t.serverCpuSeconds.toFixed(2)).join(", "));
  row("client CPU s per run", (s) => s.throughput.map((t) => t.clientCpuSeconds.toFixed(2)).join(", "));
  row("fs/readBlock runs (MiB/s)", (s) => s.blocks.map((b) => b.mibPerSec.toFixed(0)).join(", "));
  row("fs/readBlock RSS before → VmHWM (MiB)", (s) => s.blocks.map((b) => `${(b.rssBeforeKiB / 1024).toFixed(1)} → ${(b.peakRssKiB / 1024).toFixed(1)}`).join(", "));
  row("fs/readBlock server CPU s per run", (s) => s.blocks.map((b) => b.serverCpuSeconds.toFixed(2)).join(", "));
  row("fs/readFile p99 / min (ms)", (s) => `${s.readFile.p99.toFixed(1)} / ${s.readFile.min.toFixed(1)}`);
  row("fs/readFile VmHWM (MiB)", (s) => (s.readFile.peakRssKiB / 1024).toFixed(1));
  row("spawn → URL printed (ms, median)", (s) => median(s.startup.map((t) => t.urlMs)).toFixed(1));
  row("startup min / max (ms)", (s) => {
    const v = s.startup.map((t) => t.readyMs);
    return `${Math.min(...v).toFixed(1)} / ${Math.max(...v).toFixed(1)}`;
  });
  return out.join("\n");
}

function gitRev(): string {
  const r = Bun.spawnSync(["git", "describe", "--always", "--dirty"], { cwd: REPO, stdout: "pipe", stderr: "ignore" });
  return r.exitCode === 0 ? r.stdout.toString().trim() : "unknown";
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const fsSizes = { readFileBytes: 8 * MiB };
  const plan: Plan = opts.quick
    ? { warmup: 5, runs: 50, tpBytes: 64 * MiB, tpRuns: 1, starts: 3, blockFileBytes: 64 * MiB, blockRuns: 1, readFileRuns: 10, ...fsSizes }
    : { warmup: 20, runs: 300, tpBytes: 256 * MiB, tpRuns: 3, starts: 10, blockFileBytes: 256 * MiB, blockRuns: 3, readFileRuns: 30, ...fsSizes };
  const cmds = [execboxCommand(opts.source), referenceCommand()];
  const sides = await measureBoth(cmds, plan, opts);
  const m = machineInfo();
  const tpSource = opts.zero ? "`head -c N /dev/zero`" : "`sh -c \"yes <63-char line> | head -c N\"`";
  const report = [
    `# execbox vs codex exec-server — benchmark`,
    "",
    `- date: ${new Date().toISOString()}`,
    `- machine: ${m.nproc} CPUs (nproc), ${m.cpu}, Linux ${m.kernel}, Bun ${Bun.version}`,
    `- execbox: ${cmds[0]!.label}, git ${gitRev()}`,
    `- reference: ${cmds[1]!.label} (${cmds[1]!.argv[0]})`,
    `- mode: ${opts.quick ? "quick (smoke)" : "full"}; latency: /bin/true start → closed, ${plan.warmup} warm-ups + ${plan.runs} runs on one connection;` +
      ` throughput: ${plan.tpBytes / MiB} MiB via ${tpSource}, ${plan.tpRuns} run(s), fresh server each, every byte decoded and checked;` +
      ` fs: \`fs/open\` + sequential 1 MiB \`fs/readBlock\` of a ${plan.blockFileBytes / MiB} MiB file until eof, ${plan.blockRuns} run(s), fresh server each,` +
      ` and \`fs/readFile\` of an ${plan.readFileBytes / MiB} MiB file, 3 warm-ups + ${plan.readFileRuns} runs, every byte decoded and CRC-checked;` +
      ` startup: ${plan.starts} fresh starts, spawn → initialize answered, idle RSS 1 s later`,
    "",
    table(rows(sides[0]!, sides[1]!)),
    "",
    "Ratios are execbox ÷ reference. Peak RSS is the maximum over the throughput (or fs/readBlock) runs.",
    "",
    details(cmds, sides),
    "",
  ].join("\n");
  console.log(report);
  writeMainResults(report);
  log("wrote bench/results.md");
}

process.on("exit", killAll);
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(sig, () => {
    killAll();
    process.exit(130);
  });
}

try {
  await main();
} catch (e) {
  console.error(`[bench] failed: ${(e as Error).stack ?? String(e)}`);
  process.exitCode = 1;
} finally {
  killAll();
}
