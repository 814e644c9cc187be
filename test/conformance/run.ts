/**
 * Differential conformance: plays every scenario against the reference
 * `codex exec-server` and against execbox, normalizes both transcripts and
 * diffs them. Usage:
 *
 *   bun run conformance [--strict] [--verbose] [--keep-key-order] [--only <substring>] [--leg ws|remote|direct] [--reference VERSION] [--jobs N]
 *
 * Three legs, each with its own summary line: WebSocket (`--listen ws://`);
 * remote noise (remote-leg.ts): the same scenarios and relay checks through
 * Noise relay streams, both executors in `--remote` mode behind a fake
 * registry and rendezvous; remote direct: both in `--remote-transport
 * direct` mode, the scenarios that hold one connection at a time (by
 * default the lifecycle, session, envelope and process groups). `--leg ws`,
 * `--leg remote` (noise) or `--leg direct` (every eligible scenario) runs one.
 * --strict exits 1 when a scenario differs in a way expected.ts does not list (default: report only, exit 0).
 * --verbose also prints both normalized transcripts and the raw received frames of differing scenarios.
 * --keep-key-order compares JSON key order too (by default keys are sorted: order is not significant in JSON).
 * --reference picks the reference version (default: the newest execbox is checked against), installed from npm
 * into .reference/ on first use; CODEX_BIN overrides it with a binary of your own.
 *
 * Lines marked ⓘ are informational (e.g. HTTP response header wire order, which
 * fetch-based clients cannot preserve): they are diffed and printed, but a
 * scenario whose only differences are ⓘ lines counts as "same (info differs)".
 * The http/request scenarios talk to a local fixture started here (http-fixture.ts).
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Ensure, runLeg, setExecboxShim, type ShowTranscripts } from "./compare.ts";
import { shimFor } from "./version-shim.ts";
import { binaryVersion } from "../helpers/reference-bin.ts";
import { startHttpFixture } from "./http-fixture.ts";
import { INFO } from "./normalize-results.ts";
import { type AnyRemoteServer, inDirectDefault, inRelayDefault, type RemoteKind, remoteLabel, runRemoteLeg } from "./remote-leg.ts";
import { printLegSummary, REMOTE_EXPECTED, WS_EXPECTED } from "./expected.ts";
import { SCENARIOS } from "./scenarios.ts";
import { type Server, type Side, startServer, useReference } from "./servers.ts";

const args = process.argv.slice(2);
const strict = args.includes("--strict");
const verbose = args.includes("--verbose");
const keepKeyOrder = args.includes("--keep-key-order");
const onlyAt = args.indexOf("--only");
const only = onlyAt >= 0 ? args[onlyAt + 1] : undefined;
const jobsAt = args.indexOf("--jobs");
/** WebSocket-leg scenarios played at once: they mostly wait on deadlines, so 4 cut the leg's time without changing one answer. */
const jobs = jobsAt >= 0 ? Number(args[jobsAt + 1]) : 4;
const legAt = args.indexOf("--leg");
const leg = legAt >= 0 ? args[legAt + 1] : "all";
if (!["all", "ws", "remote", "direct"].includes(leg ?? "")) throw new Error(`--leg must be ws, remote or direct, not ${leg}`);

const refAt = args.indexOf("--reference");
const { shim, note, expected: versionExpected } = shimFor(binaryVersion(useReference(refAt >= 0 ? args[refAt + 1] : undefined)));
setExecboxShim(shim);
if (note) console.log(note);

const matches = (name: string) => !only || name.includes(only);
const scenarios = SCENARIOS.filter((s) => matches(s.name));
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
const playOptions = { keepKeyOrder, runDir, http: fixture.base, rawHttp: fixture.raw };
const show: ShowTranscripts = (verdict) => verbose && (verdict === "diff" || only !== undefined);

const servers: Partial<Record<Side, Server>> = {};
const remoteServers: Partial<Record<Side, AnyRemoteServer>> = {};
let stopping = false;
async function shutdown(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await Promise.all([...Object.values(servers), ...Object.values(remoteServers)].map((s) => s?.stop()));
  fixture.stop();
  rmSync(runDir, { recursive: true, force: true });
}
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => void shutdown().then(() => process.exit(130)));
}

/** Restarts a side whose server died in an earlier scenario, so one crash does not poison the rest (once, however many scenarios ask). */
const starting: Partial<Record<Side, Promise<Server>>> = {};
const ensure: Ensure = async (side) => {
  const cur = servers[side];
  if (cur?.alive()) return { server: cur, restarted: false };
  starting[side] ??= startServer(side, runDir).finally(() => delete starting[side]);
  const server = await starting[side]!;
  servers[side] = server;
  return { server, restarted: cur !== undefined };
};

let exitCode = 0;
try {
  const started = performance.now();
  const seconds = () => ((performance.now() - started) / 1000).toFixed(0);
  if (leg === "all" || leg === "ws") {
    await Promise.all([ensure("reference"), ensure("execbox")]);
    const { differing, infoOnly } = await runLeg(scenarios, ensure, playOptions, show, jobs);
    await Promise.all(Object.values(servers).map((s) => s?.stop()));
    if (printLegSummary("conformance", scenarios.length, { differing, infoOnly }, { ...WS_EXPECTED, ...versionExpected }) && strict) exitCode = 1;
    if (infoOnly.length) console.log(`same except informational lines (${INFO.trim()}): ${infoOnly.join(", ")}`);
    console.log(`(WebSocket leg: ${seconds()} s)`);
  }
  const kinds: RemoteKind[] = leg === "all" ? ["noise", "direct"] : leg === "remote" ? ["noise"] : leg === "direct" ? ["direct"] : [];
  for (const kind of kinds) {
    const subset = leg !== "all" ? scenarios : scenarios.filter(kind === "direct" ? inDirectDefault : inRelayDefault);
    const remote = await runRemoteLeg(kind, subset, runDir, remoteServers, playOptions, show, matches);
    await Promise.all(Object.values(remoteServers).map((s) => s?.stop()));
    for (const side of ["reference", "execbox"] as const) delete remoteServers[side];
    if (printLegSummary(`conformance (${remoteLabel(kind)})`, remote.total, remote, { ...REMOTE_EXPECTED, ...versionExpected }) && strict) exitCode = 1;
    for (const c of remote.counts) console.log(`  counts (not compared): ${c}`);
    if (remote.infoOnly.length) console.log(`same except informational lines (${INFO.trim()}): ${remote.infoOnly.join(", ")}`);
    console.log(`(${remoteLabel(kind)} leg done at ${seconds()} s)`);
  }
} catch (e) {
  console.error(`conformance: ${(e as Error).message}`);
  exitCode = 2;
} finally {
  await shutdown();
}
process.exit(exitCode);
