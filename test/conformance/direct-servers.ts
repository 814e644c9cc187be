/**
 * The executors of the direct leg: each side runs `--remote …
 * --remote-transport direct --aws-sigv4` against its own fake registry
 * (`…/direct/register`) and fake direct endpoint (which checks every
 * upgrade's SigV4 signature), with fake AWS credentials and the same
 * environment and working directory as the WebSocket leg. The executor
 * dials the endpoint and serves one session per socket, dialling again
 * ~0.5 s after a socket ends; a connection is the next socket it dials
 * (the endpoint plays the harness), so only scenarios that hold one
 * connection at a time can be played (`oneAtATime`).
 */
import { FAKE_AWS, FakeDirect } from "../helpers/fake-direct.ts";
import { startFakeRegistry } from "../helpers/fake-registry.ts";
import { launchRemote, REMOTE_ENVIRONMENT_ID, type RemoteTarget, whenReady } from "./remote-servers.ts";
import { serverEnv, type Side } from "./servers.ts";
import type { Scenario } from "./types.ts";

/** How long a connect waits for the executor's next dial (it redials ~0.5 s after a socket ends; 5xx answers back off). */
const DIAL_WAIT_MS = 15_000;

export type DirectServer = RemoteTarget & { direct: FakeDirect };

/** True when every connect comes after the scenario closed all its earlier connections, and nothing probes the listener. */
export function oneAtATime(scenario: Scenario): boolean {
  const open = new Set<string>();
  for (const step of scenario.steps) {
    if (step.kind === "http") return false;
    if (step.kind === "close") open.delete(step.conn ?? "c1");
    if (step.kind !== "connect") continue;
    if (open.size > 0) return false;
    open.add(step.conn ?? "c1");
  }
  return true;
}

export async function startDirectServer(side: Side, runDir: string): Promise<DirectServer> {
  const direct = new FakeDirect();
  const registry = startFakeRegistry({ rendezvousUrl: direct.url(`/direct/${REMOTE_ENVIRONMENT_ID}?session=conformance`) });
  const { CODEX_API_KEY: _, ...env } = serverEnv(runDir);
  const flags = ["--remote-transport", "direct", "--aws-sigv4"];
  const launched = launchRemote(side, runDir, registry, flags, { ...env, ...FAKE_AWS }, () => direct.stop());
  let taken = 0;
  const server: DirectServer = { ...launched, direct, connect: () => direct.harness(taken++, DIAL_WAIT_MS), alive: launched.executorAlive };
  const dialled = Promise.race([direct.harness(0, DIAL_WAIT_MS), launched.proc.exited]);
  return whenReady(server, dialled, "--remote-transport direct");
}
