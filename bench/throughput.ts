#!/usr/bin/env bun
/**
 * `bun bench/throughput.ts [runs] [MiB]`: only the stdout-streaming comparison
 * of `bun run bench`, interleaved execbox / reference, for quick iteration.
 */
import { measureThroughput } from "./measure.ts";
import { execboxCommand, killAll, referenceCommand } from "./servers.ts";

const runs = Number(process.argv[2] ?? 3);
const mib = Number(process.argv[3] ?? 256);
const cmds = [execboxCommand(false), referenceCommand()];
try {
  for (let run = 1; run <= runs; run++) {
    for (const cmd of cmds) {
      const r = await measureThroughput(cmd, mib << 20, "yes");
      console.log(
        `${run} ${cmd.kind.padEnd(9)} ${r.mibPerSec.toFixed(0).padStart(5)} MiB/s  peak RSS ${(r.peakRssKiB / 1024).toFixed(1)} MiB  server CPU ${r.serverCpuSeconds.toFixed(2)} s  ${r.frames} frames`,
      );
    }
  }
} finally {
  killAll();
}
