/**
 * Differential conformance: plays every scenario against the reference
 * `codex exec-server` and against execbox, normalizes both transcripts and
 * diffs them. Usage:
 *
 *   bun run conformance [--strict] [--verbose] [--keep-key-order] [--only <substring>]
 *
 * --strict exits 1 when any scenario differs (default: report only, exit 0).
 * --verbose also prints both normalized transcripts and the raw received frames of differing scenarios.
 * --keep-key-order compares JSON key order too (by default keys are sorted: order is not significant in JSON).
 * CODEX_BIN overrides the reference binary.
 *
 * Lines marked ⓘ are informational (e.g. HTTP response header wire order, which
 * fetch-based clients cannot preserve): they are diffed and printed, but a
 * scenario whose only differences are ⓘ lines counts as "same (info differs)".
 * The http/request scenarios talk to a local fixture started here (http-fixture.ts).
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { unifiedDiff } from "./diff.ts";
import { type Transcript, play } from "./driver.ts";
import { startHttpFixture } from "./http-fixture.ts";
import { INFO } from "./normalize-results.ts";
import { SCENARIOS } from "./scenarios.ts";
import { type Server, type Side, startServer } from "./servers.ts";
import type { Scenario } from "./types.ts";

const args = process.argv.slice(2);
const strict = args.includes("--strict");
const verbose = args.includes("--verbose");
const keepKeyOrder = args.includes("--keep-key-order");
const onlyAt = args.indexOf("--only");
const only = onlyAt >= 0 ? args[onlyAt + 1] : undefined;

const scenarios = SCENARIOS.filter((s) => !only || s.name.includes(only));
const names = new Set<string>();
for (const s of SCENARIOS) {
  if (names.has(s.name)) throw new Error(`duplicate scenario name ${s.name}`);
  names.add(s.name);
}

// One run dir holds the servers' cwd and CODEX_HOME; scenario dirs are separate so each side starts empty.
const runDir = mkdtempSync(join(tmpdir(), "execbox-conformance-run-"));
mkdirSync(join(runDir, "cwd"));
mkdirSync(join(runDir, "codex-home"));

// The HTTP endpoints the http/request scenarios call (both executors reach the same ones).
const fixture = startHttpFixture();

const servers: Partial<Record<Side, Server>> = {};
let stopping = false;
async function shutdown(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await Promise.all(Object.values(servers).map((s) => s?.stop()));
  fixture.stop();
  rmSync(runDir, { recursive: true, force: true });
}
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => void shutdown().then(() => process.exit(130)));
}

/** Restarts a side whose server died in an earlier scenario, so one crash does not poison the rest. */
async function ensure(side: Side): Promise<{ server: Server; restarted: boolean }> {
  const cur = servers[side];
  if (cur?.alive()) return { server: cur, restarted: false };
  const server = await startServer(side, runDir);
  servers[side] = server;
  return { server, restarted: cur !== undefined };
}

async function playSide(side: Side, scenario: Scenario): Promise<Transcript> {
  const { server, restarted } = await ensure(side);
  const dir = mkdtempSync(join(tmpdir(), `execbox-conformance-${side}-`));
  try {
    scenario.setup?.(dir);
    const t = await play(scenario, server.url, dir, { keepKeyOrder, runDir, http: fixture.base, rawHttp: fixture.raw });
    if (restarted) t.lines.unshift("(server restarted before this scenario: it had died)");
    if (!server.alive()) t.lines.push(`(server died during this scenario: ${server.proc.exitCode ?? server.proc.signalCode})`);
    return t;
  } catch (e) {
    return { lines: [`(driver error: ${(e as Error).message})`], raw: [] };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

let exitCode = 0;
try {
  await Promise.all([ensure("reference"), ensure("execbox")]);
  const differing: string[] = [];
  const infoOnly: string[] = [];
  const isInfo = (l: string) => l.includes(` ${INFO}`);
  const equal = (a: string[], b: string[]) => a.length === b.length && a.every((l, i) => l === b[i]);
  for (const scenario of scenarios) {
    // Both sides in parallel: scenarios are independent per server, and this halves the wall time.
    const [ref, ours] = await Promise.all([playSide("reference", scenario), playSide("execbox", scenario)]);
    // Informational lines (ⓘ) are reported when they differ but do not make a scenario differ.
    const same = equal(ref.lines.filter((l) => !isInfo(l)), ours.lines.filter((l) => !isInfo(l)));
    const infoSame = equal(ref.lines.filter(isInfo), ours.lines.filter(isInfo));
    console.log(`${same ? (infoSame ? "same" : "same (info differs)") : "DIFF"}  ${scenario.name}`);
    if (!same || !infoSame) {
      if (!same) differing.push(scenario.name);
      else infoOnly.push(scenario.name);
      for (const l of unifiedDiff(ref.lines, ours.lines, "reference", "execbox")) console.log(`    ${l}`);
    }
    if (verbose && (!same || only)) {
      for (const [label, t] of [["reference", ref], ["execbox", ours]] as const) {
        console.log(`  --- ${label} transcript`);
        for (const l of t.lines) console.log(`    ${l}`);
        console.log(`  --- ${label} raw frames received`);
        for (const l of t.raw) console.log(`    ${l}`);
      }
    }
  }
  const d = differing.length;
  console.log(`conformance: ${scenarios.length} scenarios, ${scenarios.length - d} same, ${d} differ`);
  if (d) console.log(`differing: ${differing.join(", ")}`);
  if (infoOnly.length) console.log(`same except informational lines (${INFO.trim()}): ${infoOnly.join(", ")}`);
  if (strict && d) exitCode = 1;
} catch (e) {
  console.error(`conformance: ${(e as Error).message}`);
  exitCode = 2;
} finally {
  await shutdown();
}
process.exit(exitCode);
