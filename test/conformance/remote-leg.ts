/**
 * The remote leg: the scenario corpus and the relay checks played through
 * Noise relay streams, the reference in `exec-server --remote` mode against
 * `execbox --remote`, each behind its own fake registry and rendezvous
 * (remote-servers.ts). Scenarios that probe the listener's plain HTTP have
 * no counterpart on a relay stream and are left out. Differences listed in
 * expected.ts are reported with their reason; any other is drift.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Ensure, type LegResult, report, runLeg, type ShowTranscripts } from "./compare.ts";
import type { PlayOptions, Transcript } from "./driver.ts";
import { RELAY_CHECKS, type RelayCheck } from "./relay-checks.ts";
import { type RemoteServer, startRemoteServer } from "./remote-servers.ts";
import type { Side } from "./servers.ts";
import type { Scenario } from "./types.ts";

export const REMOTE_LABEL = "remote noise";

/** Scenarios a relay stream can play: every one but those probing the listener's HTTP (`/readyz`, upgrade answers). */
export const relayable = (s: Scenario): boolean => !s.steps.some((step) => step.kind === "http");

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

export async function runRemoteLeg(
  scenarios: Scenario[],
  runDir: string,
  servers: Partial<Record<Side, RemoteServer>>,
  opts: Omit<PlayOptions, "connect">,
  show: ShowTranscripts,
  checkFilter: (name: string) => boolean,
): Promise<RemoteLegResult> {
  const ensure: Ensure = async (side) => {
    const cur = servers[side];
    if (cur?.alive()) return { server: cur, restarted: false };
    await cur?.stop();
    const server = await startRemoteServer(side, runDir);
    servers[side] = server;
    return { server, restarted: cur !== undefined };
  };
  await Promise.all([ensure("reference"), ensure("execbox")]);
  const playable = scenarios.filter(relayable);
  const result = await runLeg(playable, ensure, opts, show);
  const counts: string[] = [];
  const checks = RELAY_CHECKS.filter((c) => checkFilter(c.name));
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
