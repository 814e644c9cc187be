/**
 * The remote legs, the reference in `exec-server --remote` mode against
 * `execbox --remote`, each behind its own fakes:
 * - noise: the scenario corpus and the relay checks through Noise relay
 *   streams (remote-servers.ts). Scenarios that probe the listener's plain
 *   HTTP have no counterpart on a relay stream and are left out.
 * - direct: the scenarios that hold one connection at a time, each
 *   connection one socket the executor dials (direct-servers.ts).
 * Differences listed in expected.ts are reported with their reason; any
 * other is drift.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Ensure, type LegResult, report, runLeg, type ShowTranscripts } from "./compare.ts";
import type { PlayOptions, Transcript } from "./driver.ts";
import { RELAY_CHECKS, type RelayCheck } from "./relay-checks.ts";
import { type DirectServer, oneAtATime, startDirectServer } from "./direct-servers.ts";
import { type RemoteServer, startRemoteServer } from "./remote-servers.ts";
import type { Side } from "./servers.ts";
import type { Scenario } from "./types.ts";

export type RemoteKind = "noise" | "direct";
export const remoteLabel = (kind: RemoteKind) => `remote ${kind}`;

/** Scenarios a relay stream can play: every one but those probing the listener's HTTP (`/readyz`, upgrade answers). */
export const relayable = (s: Scenario): boolean => !s.steps.some((step) => step.kind === "http");

/**
 * The generated parameter probes (`probe-gen/…`) check what a method answers
 * to each value, which no transport changes; with `--leg all` the relay
 * legs skip them (a leg of its own still plays them).
 */
export const inRelayDefault = (s: Scenario): boolean => !s.name.startsWith("probe-gen/");

const LEGS = {
  noise: { start: startRemoteServer, playable: relayable, checks: RELAY_CHECKS },
  direct: { start: startDirectServer, playable: oneAtATime, checks: [] as RelayCheck[] },
};
export type AnyRemoteServer = RemoteServer | DirectServer;

async function runCheck(check: RelayCheck, server: RemoteServer): Promise<Transcript> {
  const dir = mkdtempSync(join(tmpdir(), `execbox-conformance-relay-${server.side}-`));
  try {
    return { lines: await check.run(server, `file://${dir}`), raw: [] };
  } catch (e) {
    return { lines: [`(check error: ${(e as Error).message})`], raw: [] };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export type RemoteLegResult = LegResult & { total: number; counts: string[] };

/**
 * The direct leg's default subset, the groups where the transport shows
 * (session lifecycle and drops, envelope errors, process output and its flow
 * control): each direct connection costs the executor's ~0.5 s redial, so
 * all 95 eligible scenarios take ~110 s; `--leg direct` plays them all.
 */
export const DIRECT_DEFAULT_GROUPS = ["lifecycle/", "session/", "envelope/", "process/"];
export const inDirectDefault = (s: Scenario): boolean => DIRECT_DEFAULT_GROUPS.some((g) => s.name.startsWith(g));

export async function runRemoteLeg(
  kind: RemoteKind,
  scenarios: Scenario[],
  runDir: string,
  servers: Partial<Record<Side, AnyRemoteServer>>,
  opts: Omit<PlayOptions, "connect">,
  show: ShowTranscripts,
  checkFilter: (name: string) => boolean,
): Promise<RemoteLegResult> {
  const ensure: Ensure = async (side) => {
    const cur = servers[side];
    if (cur?.alive()) return { server: cur, restarted: false };
    await cur?.stop();
    const server = await LEGS[kind].start(side, runDir);
    servers[side] = server;
    return { server, restarted: cur !== undefined };
  };
  await Promise.all([ensure("reference"), ensure("execbox")]);
  const playable = scenarios.filter(LEGS[kind].playable);
  const result = await runLeg(playable, ensure, opts, show);
  const counts: string[] = [];
  const checks = LEGS[kind].checks.filter((c) => checkFilter(c.name));
  for (const check of checks) {
    const onSide = async (side: Side) => runCheck(check, (await ensure(side)).server as RemoteServer);
    const [ref, ours] = await Promise.all([onSide("reference"), onSide("execbox")]);
    if (check.countOnly) {
      console.log(`count  ${check.name}: reference ${ref.lines.join(" / ")} · execbox ${ours.lines.join(" / ")}`);
      counts.push(`${check.name}: reference ${ref.lines.join(" / ")}; execbox ${ours.lines.join(" / ")}`);
      continue;
    }
    const verdict = report(check.name, ref, ours, show);
    if (verdict === "diff") result.differing.push(check.name);
    if (verdict === "info") result.infoOnly.push(check.name);
  }
  return { ...result, total: playable.length + checks.filter((c) => !c.countOnly).length, counts };
}
