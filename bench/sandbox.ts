#!/usr/bin/env bun
/**
 * `bun bench/sandbox.ts [runs]`: what a sandbox costs per command. `/bin/true`
 * start → `process/closed`, unsandboxed and under a workspace-write profile
 * with the network cut, on execbox and the reference in the same run. The
 * child env has no PATH so the reference uses its bundled bwrap (a system bwrap
 * on the request's PATH changes its wrapper). Writes "## Sandbox overhead"
 * into bench/results.md.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type LatencyProbe, type LatencyResult, measureLatency } from "./measure.ts";
import { findBwrap } from "../src/sandbox/bwrap.ts";
import { writeResultsSection } from "./results-file.ts";
import { execboxCommand, killAll, machineInfo, referenceCommand, startServer } from "./servers.ts";

const runs = Number(process.argv[2] ?? 200);
const WARMUP = 20;
const ws = mkdtempSync(join(tmpdir(), "execbox-bench-sbx-"));
const uri = `file://${ws}`;
const special = (kind: string) => ({ type: "special", value: { kind } });
const sandbox = {
  permissions: {
    type: "managed",
    file_system: { type: "restricted", entries: [{ path: special("root"), access: "read" }, { path: special("project_roots"), access: "write" }] },
    network: "restricted",
  },
  cwd: uri,
  workspaceRoots: [uri],
  windowsSandboxLevel: "disabled",
};

/**
 * The reference sends a command's first output and notices its exit only
 * after ~45-50 ms (its poll), which hides start-up costs inside that wait. A
 * command that prints, pauses 100 ms, and prints again shows them: its second
 * output arrives at start-up + 100 ms on both servers, pushed as it is read.
 */
const SECOND_OUTPUT: LatencyProbe = { argv: ["/bin/sh", "-c", "echo a; sleep 0.1; echo b"], stopAtOutput: 2 };

type Row = { label: string; plain: LatencyResult; sandboxed: LatencyResult; plainOutput: LatencyResult; sandboxedOutput: LatencyResult };
const rows: Row[] = [];
try {
  for (const cmd of [execboxCommand(false), referenceCommand()]) {
    const server = await startServer(cmd);
    try {
      const plain = await measureLatency(server, WARMUP, runs, { cwd: uri, env: {} });
      const sandboxed = await measureLatency(server, WARMUP, runs, { cwd: uri, env: {}, sandbox });
      const plainOutput = await measureLatency(server, WARMUP, runs, { cwd: uri, env: {} }, SECOND_OUTPUT);
      const sandboxedOutput = await measureLatency(server, WARMUP, runs, { cwd: uri, env: {}, sandbox }, SECOND_OUTPUT);
      rows.push({ label: cmd.label, plain, sandboxed, plainOutput, sandboxedOutput });
      console.error(`[bench] ${cmd.label}: p50 ${plain.p50.toFixed(2)} → ${sandboxed.p50.toFixed(2)} ms sandboxed; second output ${plainOutput.p50.toFixed(2)} → ${sandboxedOutput.p50.toFixed(2)} ms`);
    } finally {
      await server.kill();
    }
  }
} finally {
  killAll();
  rmSync(ws, { recursive: true, force: true });
}
const m = machineInfo();
const f = (n: number) => n.toFixed(2);
const text = [
  "## Sandbox overhead",
  "",
  `- date: ${new Date().toISOString()}; ${m.nproc} CPUs, ${m.cpu}, Linux ${m.kernel}; \`bun bench/sandbox.ts ${runs}\``,
  `- \`/bin/true\` start → \`process/closed\`, ${WARMUP} warm-ups + ${runs} runs each, one connection; sandboxed: read-only root, workspace writable, network cut (execbox: system bwrap ${findBwrap(process.env.PATH)?.version ?? "none"}; reference: its bundled bwrap)`,
  "",
  "- start → second output: `sh -c \"echo a; sleep 0.1; echo b\"`, the clock stops at its second `process/output` (start-up + 100 ms; the reference's ~50 ms poll for first output and exit does not blur it)",
  "",
  "| Server | unsandboxed p50 / p99 (ms) | sandboxed p50 / p99 (ms) | added p50 (ms) | start → second output, unsandboxed / sandboxed p50 (ms) | added p50 (ms) |",
  "|---|---:|---:|---:|---:|---:|",
  ...rows.map(
    (r) =>
      `| ${r.label} | ${f(r.plain.p50)} / ${f(r.plain.p99)} | ${f(r.sandboxed.p50)} / ${f(r.sandboxed.p99)} | ${f(r.sandboxed.p50 - r.plain.p50)} | ${f(r.plainOutput.p50)} / ${f(r.sandboxedOutput.p50)} | ${f(r.sandboxedOutput.p50 - r.plainOutput.p50)} |`,
  ),
  "",
].join("\n");
console.log(text);
writeResultsSection(text);
