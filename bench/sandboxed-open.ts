#!/usr/bin/env bun
/**
 * `bun bench/sandboxed-open.ts [runs]`: what `fs/open` under a read-restricted
 * sandbox costs (capability sandboxedFileStreaming). Open → close latency
 * (p50/p99) and 1 MiB `fs/readBlock` throughput of a 256 MiB file, with no
 * sandbox and under a sandbox that reads only the bench dir, on execbox and
 * the reference. The reference's helper starts `codex-linux-sandbox` from
 * PATH inside the sandbox, so a dir with that alias is put first on PATH and
 * granted read. Prints the table (not written to results.md).
 */
import { mkdirSync, realpathSync, rmSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { BenchClient } from "./client.ts";
import { blockReadOn, writeBenchFile } from "./fs.ts";
import { percentile } from "./measure.ts";
import { execboxCommand, killAll, makeTempDir, referenceCommand, startServer } from "./servers.ts";

const runs = Number(process.argv[2] ?? 50);
const WARMUP = 5;
const dir = makeTempDir("execbox-bench-sbx-open-");
const binDir = join(dir, "bin");
mkdirSync(binDir);
const reference = referenceCommand();
symlinkSync(realpathSync(reference.argv[0]!), join(binDir, "codex-linux-sandbox"));
process.env.PATH = `${binDir}:${process.env.PATH}`;
const file = writeBenchFile(dir, "big.bin", 256 << 20);
const sandbox = {
  permissions: {
    type: "managed",
    network: "restricted",
    file_system: { type: "restricted", entries: [{ path: { type: "path", path: `file://${dir}` }, access: "read" }] },
  },
  windowsSandboxLevel: "disabled",
};

async function openLatency(client: BenchClient, extra: object): Promise<{ p50: number; p99: number }> {
  const samples: number[] = [];
  for (let i = 0; i < WARMUP + runs; i++) {
    const t0 = performance.now();
    await client.request("fs/open", { handleId: "lat", path: file.uri, ...extra });
    if (i >= WARMUP) samples.push(performance.now() - t0);
    await client.request("fs/close", { handleId: "lat" });
  }
  return { p50: percentile(samples, 50), p99: percentile(samples, 99) };
}

const rows: string[] = [];
try {
  for (const cmd of [execboxCommand(false), reference]) {
    const server = await startServer(cmd);
    const client = await BenchClient.connect(server.url);
    try {
      await client.handshake();
      for (const [label, extra] of [["no sandbox", {}], ["read-restricted", { sandbox }]] as const) {
        const lat = await openLatency(client, extra);
        const read = await blockReadOn(client, server.pid, cmd.label, file, extra);
        rows.push(`| ${cmd.label} | ${label} | ${lat.p50.toFixed(2)} / ${lat.p99.toFixed(2)} | ${read.mibPerSec.toFixed(0)} |`);
        console.error(`[bench] ${rows.at(-1)}`);
      }
    } finally {
      client.close();
      await server.kill();
    }
  }
} finally {
  killAll();
  rmSync(dir, { recursive: true, force: true });
}
console.log(["| Server | fs/open | open → reply p50 / p99 (ms) | 1 MiB readBlock MiB/s |", "|---|---|---:|---:|", ...rows].join("\n"));
