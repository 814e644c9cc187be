/**
 * One leg of the conformance run: every scenario played on both sides (in
 * parallel: scenarios are independent per server, and it halves the wall
 * time), transcripts diffed, one line per scenario printed. Lines marked ⓘ
 * are informational: diffed and printed, but a scenario whose only
 * differences are ⓘ lines counts as "same (info differs)".
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { unifiedDiff } from "./diff.ts";
import { type PlayOptions, type Transcript, play } from "./driver.ts";
import { INFO } from "./normalize-results.ts";
import type { Side } from "./servers.ts";
import type { Scenario } from "./types.ts";

/** What the leg needs of a running executor. */
export type Target = {
  url: string;
  connect?: PlayOptions["connect"];
  proc: Pick<Bun.Subprocess, "exitCode" | "signalCode">;
  alive(): boolean;
};

/** Returns a live target for a side, restarting one that died in an earlier scenario (so one crash does not poison the rest). */
export type Ensure = (side: Side) => Promise<{ server: Target; restarted: boolean }>;

export type LegResult = { differing: string[]; infoOnly: string[] };

/** Applied to every execbox transcript line (see version-shim.ts); set once per run. */
let execboxShim: (line: string) => string = (l) => l;
export function setExecboxShim(shim: (line: string) => string): void {
  execboxShim = shim;
}

export async function playSide(side: Side, scenario: Scenario, ensure: Ensure, opts: Omit<PlayOptions, "connect">): Promise<Transcript> {
  const { server, restarted } = await ensure(side);
  const dir = mkdtempSync(join(tmpdir(), `execbox-conformance-${side}-`));
  try {
    scenario.setup?.(dir);
    const t = await play(scenario, server.url, dir, server.connect ? { ...opts, connect: server.connect } : opts);
    if (restarted) t.lines.unshift("(server restarted before this scenario: it had died)");
    if (!server.alive()) t.lines.push(`(server died during this scenario: ${server.proc.exitCode ?? server.proc.signalCode ?? "its rendezvous socket closed"})`);
    if (side === "execbox") t.lines = t.lines.map(execboxShim);
    return t;
  } catch (e) {
    return { lines: [`(driver error: ${(e as Error).message})`], raw: [] };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const isInfo = (l: string) => l.includes(` ${INFO}`);
const equal = (a: string[], b: string[]) => a.length === b.length && a.every((l, i) => l === b[i]);

export type Verdict = "same" | "info" | "diff";
/** When to print both full transcripts and raw frames (--verbose). */
export type ShowTranscripts = (verdict: Verdict) => boolean;

/** Prints `same` / `same (info differs)` / `DIFF` and the diff for one pair of transcripts; returns the verdict. */
export function report(name: string, ref: Transcript, ours: Transcript, show: ShowTranscripts): Verdict {
  const same = equal(ref.lines.filter((l) => !isInfo(l)), ours.lines.filter((l) => !isInfo(l)));
  const infoSame = equal(ref.lines.filter(isInfo), ours.lines.filter(isInfo));
  const verdict: Verdict = same ? (infoSame ? "same" : "info") : "diff";
  console.log(`${same ? (infoSame ? "same" : "same (info differs)") : "DIFF"}  ${name}`);
  if (!same || !infoSame) for (const l of unifiedDiff(ref.lines, ours.lines, "reference", "execbox")) console.log(`    ${l}`);
  if (show(verdict)) {
    for (const [label, t] of [["reference", ref], ["execbox", ours]] as const) {
      console.log(`  --- ${label} transcript`);
      for (const l of t.lines) console.log(`    ${l}`);
      console.log(`  --- ${label} raw frames received`);
      for (const l of t.raw) console.log(`    ${l}`);
    }
  }
  return verdict;
}

/**
 * Plays the scenarios, `jobs` at a time (each has its own connections and
 * temp dir; most of a scenario's time is spent waiting on deadlines), and
 * reports them in order.
 */
export async function runLeg(scenarios: Scenario[], ensure: Ensure, opts: Omit<PlayOptions, "connect">, show: ShowTranscripts, jobs = 1): Promise<LegResult> {
  const played: Promise<[Transcript, Transcript]>[] = [];
  const running = new Set<Promise<unknown>>();
  for (const scenario of scenarios) {
    if (running.size >= jobs) await Promise.race(running);
    const side = (name: "reference" | "execbox") => playSide(name, scenario, ensure, opts);
    const play: Promise<[Transcript, Transcript]> = scenario.sidesInTurn
      ? side("reference").then(async (ref) => [ref, await side("execbox")])
      : Promise.all([side("reference"), side("execbox")]);
    played.push(play);
    const slot = play.finally(() => running.delete(slot));
    running.add(slot);
  }
  const result: LegResult = { differing: [], infoOnly: [] };
  for (const [i, play] of played.entries()) {
    const [ref, ours] = await play;
    const name = scenarios[i]!.name;
    const verdict = report(name, ref, ours, show);
    if (verdict === "diff") result.differing.push(name);
    if (verdict === "info") result.infoOnly.push(name);
  }
  return result;
}
