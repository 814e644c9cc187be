#!/usr/bin/env bun
/**
 * `bun bench/shell-snapshot.ts [runs]`: what shellSnapshotV2 saves a login
 * command. `/bin/bash -lc "echo a; sleep 0.1; echo b"` with a login profile
 * that sleeps 100 ms, start → first and second `process/output`, without a
 * snapshot and with a warm one (the warm-ups capture it), on execbox and the
 * reference in the same run. Writes "## Shell snapshot" into bench/results.md.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { type LatencyResult, measureLatency } from "./measure.ts";
import { writeResultsSection } from "./results-file.ts";
import { execboxCommand, killAll, machineInfo, makeTempDir, referenceCommand, startServer } from "./servers.ts";

const runs = Number(process.argv[2] ?? 20);
const WARMUP = 3;
const home = makeTempDir("execbox-bench-snapshot-");
writeFileSync(join(home, ".bash_profile"), "sleep 0.1\nexport PROFILE_VAR=1\n");
const base = { cwd: `file://${home}`, env: { PATH: "/usr/bin:/bin", HOME: home } };
const argv = ["/bin/bash", "-lc", "echo a; sleep 0.1; echo b"];

type Row = { label: string; plain: [LatencyResult, LatencyResult]; warm: [LatencyResult, LatencyResult] };
const rows: Row[] = [];
try {
  for (const cmd of [execboxCommand(false), referenceCommand()]) {
    const server = await startServer(cmd);
    try {
      const run = (scope: string | null, nth: number) =>
        measureLatency(server, WARMUP, runs, { ...base, shellSnapshot: scope && { scopeId: `${scope}-${nth}`, shell: { name: "bash", path: "/bin/bash" } } }, { argv, stopAtOutput: nth });
      const plain: [LatencyResult, LatencyResult] = [await run(null, 1), await run(null, 2)];
      const warm: [LatencyResult, LatencyResult] = [await run("bench", 1), await run("bench", 2)];
      rows.push({ label: cmd.label, plain, warm });
      console.error(`[bench] ${cmd.label}: first output ${plain[0].p50.toFixed(1)} → ${warm[0].p50.toFixed(1)} ms with a warm snapshot`);
    } finally {
      await server.kill();
    }
  }
} finally {
  killAll();
}
const m = machineInfo();
const f = (r: LatencyResult) => `${r.p50.toFixed(1)} / ${r.p99.toFixed(1)}`;
const text = [
  "## Shell snapshot",
  "",
  `- date: ${new Date().toISOString()}; ${m.nproc} CPUs, ${m.cpu}, Linux ${m.kernel}; \`bun bench/shell-snapshot.ts ${runs}\``,
  `- \`/bin/bash -lc "echo a; sleep 0.1; echo b"\`, a login profile that sleeps 100 ms; ${WARMUP} warm-ups (the first captures the snapshot) + ${runs} runs each, one connection; the clock stops at the first, then the second \`process/output\` (the reference's ~50 ms output poll blurs the first)`,
  "",
  "| Server | first output, no snapshot p50 / p99 (ms) | first output, warm snapshot | second output, no snapshot | second output, warm snapshot |",
  "|---|---:|---:|---:|---:|",
  ...rows.map((r) => `| ${r.label} | ${f(r.plain[0])} | ${f(r.warm[0])} | ${f(r.plain[1])} | ${f(r.warm[1])} |`),
  "",
].join("\n");
console.log(text);
writeResultsSection(text);
