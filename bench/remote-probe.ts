#!/usr/bin/env bun
/**
 * `bun bench/remote-probe.ts [--source] [--prof DIR] [--runs N] [stdout|block|handshake|local]…`:
 * the execbox-only part of `bench/remote.ts`, for measuring one change at a
 * time without running the reference and the whole plan: 64 MiB of stdout,
 * a 64 MiB `fs/readBlock` stream and/or 20 streams opened (`local`: the
 * same stdout over `--listen ws://`, to tell the remote path's share), each on a fresh
 * executor, printing executor CPU, VmHWM and MiB/s per run. `--prof DIR`
 * runs the executor from source under `bun --cpu-prof` (profiles land in DIR
 * once it exits). Writes nothing to bench/results.md.
 */
import { readFileSync } from "node:fs";
import { blockReadOn, writeBenchFile } from "./fs.ts";
import { throughputOn } from "./measure.ts";
import { measureHandshakes } from "./remote-load.ts";
import { type RemoteExecutor, startRelay, withExecutor } from "./remote-executors.ts";
import { BenchClient } from "./client.ts";
import { type ServerCommand, execboxCommand, makeTempDir, procStatusKiB, runBench, startServer } from "./servers.ts";

const MiB = 1 << 20;
const BYTES = 64 * MiB;
const HANDSHAKES = 20;

function parse(argv: string[]) {
  const what: string[] = [];
  let runs = 3;
  let prof: string | null = null;
  let source = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--source") source = true;
    else if (a === "--runs") runs = Number(argv[++i]);
    else if (a === "--prof") prof = argv[++i]!;
    else if (["stdout", "block", "handshake", "local"].includes(a)) what.push(a);
    else throw new Error(`unknown option ${a}`);
  }
  return { what: what.length ? what : ["stdout"], runs, prof, source };
}

/** Field `n` (1-based, as in proc(5)) of /proc/<pid>/stat. */
function statField(pid: number, n: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[n - 3]);
}
/** stime of all threads of `pid`, in seconds (the kernel's share of `cpuSeconds`). */
const systemSeconds = (pid: number) => statField(pid, 15) / 100;
/** Minor page faults of `pid` (fresh memory touched). */
const minorFaults = (pid: number) => statField(pid, 10);

/** SIGTERM and wait (≤ 10 s) for the exit, so `--cpu-prof` writes its profile before the group is killed. */
async function terminate(pid: number): Promise<void> {
  process.kill(pid, "SIGTERM");
  for (let i = 0; i < 200; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await Bun.sleep(50);
  }
}

type Measure = (client: BenchClient, e: RemoteExecutor) => Promise<string>;

/** `fn` on a fresh `--listen ws://` server (not remote): what the rest of the server costs. */
async function withLocalServer(cmd: ServerCommand, fn: Measure): Promise<string> {
  const server = await startServer(cmd);
  const client = await BenchClient.connect(server.url);
  try {
    await client.handshake();
    return await fn(client, { pid: server.pid, label: cmd.label, stderr: server.stderr, kill: server.kill });
  } finally {
    client.close();
    await server.kill();
  }
}

async function main(): Promise<void> {
  const o = parse(process.argv.slice(2));
  const cmd: ServerCommand = o.prof
    ? { kind: "execbox", label: "execbox (source, profiled)", argv: [process.execPath, "--cpu-prof", "--cpu-prof-dir", o.prof, `${import.meta.dir}/../src/cli/main.ts`] }
    : execboxCommand(o.source);
  const relay = await startRelay();
  const file = o.what.includes("block") ? writeBenchFile(makeTempDir("execbox-probe-fs-"), "block.bin", BYTES) : null;
  try {
    for (const what of o.what) {
      for (let run = 0; run < o.runs; run++) {
        const line = await (what === "local" ? withLocalServer : (c: ServerCommand, f: Measure) => withExecutor(c, relay, f))(cmd, async (client, e) => {
          if (what === "handshake") {
            const h = await measureHandshakes(relay, e, HANDSHAKES);
            if (o.prof) await terminate(e.pid);
            return `executor CPU ${h.executorCpuMsPerStream.toFixed(2)} ms/stream, ${h.perSecond.toFixed(0)} streams/s`;
          }
          const sys0 = systemSeconds(e.pid);
          const faults0 = minorFaults(e.pid);
          const rss0 = procStatusKiB(e.pid, "VmRSS") / 1024;
          const r = what !== "block" ? await throughputOn(client, e.pid, e.label, BYTES, "zero") : await blockReadOn(client, e.pid, e.label, file!);
          const cpu = r.serverCpuSeconds * (1024 / 64);
          const sys = (systemSeconds(e.pid) - sys0) * (1024 / 64);
          const faults = minorFaults(e.pid) - faults0;
          const parts = ["RssAnon", "RssFile"].map((k) => `${k} ${(procStatusKiB(e.pid, k) / 1024).toFixed(1)}`).join(", ");
          if (o.prof) await terminate(e.pid);
          return `${r.mibPerSec.toFixed(0)} MiB/s, executor CPU ${cpu.toFixed(2)} s/GiB (system ${sys.toFixed(2)}), ${faults} minor faults, VmRSS before ${rss0.toFixed(1)} → VmHWM ${(r.peakRssKiB / 1024).toFixed(1)} MiB (after: ${parts} MiB)`;
        });
        console.log(`${what} ${run + 1}/${o.runs}: ${line}`);
      }
    }
  } finally {
    await relay.stop();
  }
}

await runBench("remote-probe", main);
