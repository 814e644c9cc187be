/**
 * The executors of the remote leg: each side runs in `--remote` (noise) mode
 * behind its own fake registry and routing fake rendezvous (test/helpers/,
 * the real wire format on 127.0.0.1; one rendezvous holds one executor
 * socket, hence one pair per side), with the same environment and working
 * directory as the WebSocket leg. A connection is one Noise stream opened by
 * execbox's harness (`remoteConnector`: registry connect, a fresh harness
 * key, hybridIK, records), wrapped as a RawClient so the driver plays every
 * scenario over it unchanged. The NoiseHarness on the same rendezvous opens
 * streams at the frame level for the relay checks.
 */
import { join } from "node:path";
import { remoteConnector } from "../../src/client/remote.ts";
import { ChannelClient } from "../helpers/channel-client.ts";
import { type FakeRegistry, startFakeRegistry } from "../helpers/fake-registry.ts";
import { FakeRendezvous } from "../helpers/fake-rendezvous.ts";
import { NoiseHarness } from "../helpers/noise-harness.ts";
import type { RawClient } from "../helpers/rpc-client.ts";
import { commandFor, serverEnv, type Side, supervise } from "./servers.ts";

export const REMOTE_ENVIRONMENT_ID = "conformance-env";
/** Registration can take a moment on a cold start (the reference's first launch sets up CODEX_HOME). */
const REGISTER_WAIT_MS = 30_000;

/** What both remote legs' executors offer the runner. */
export type RemoteTarget = {
  side: Side;
  /** Not dialled: connections are opened by `connect`. Kept so the runner treats every leg alike. */
  url: string;
  proc: Bun.Subprocess<"ignore", "ignore", "pipe">;
  registry: FakeRegistry;
  /** One new connection to the executor, as a RawClient. */
  connect(): Promise<RawClient>;
  stderr(): string;
  alive(): boolean;
  stop(): Promise<void>;
};

export type RemoteServer = RemoteTarget & { rendezvous: FakeRendezvous; harness: NoiseHarness };

type Launched = Omit<RemoteTarget, "connect" | "alive"> & { executorAlive(): boolean };

/** Spawns `side` with `--remote REGISTRY --environment-id ID` and `flags`, in the WebSocket leg's cwd and environment; `stop` also stops the fakes. */
export function launchRemote(side: Side, runDir: string, registry: FakeRegistry, flags: string[], env: Record<string, string>, stopFakes: () => void): Launched {
  const proc = Bun.spawn([...commandFor(side), "--remote", registry.url, "--environment-id", REMOTE_ENVIRONMENT_ID, ...flags], {
    cwd: join(runDir, "cwd"),
    env,
    stdin: "ignore",
    stdout: "ignore",
    stderr: "pipe",
  });
  const executor = supervise(proc);
  return {
    side,
    url: `${flags.includes("direct") ? "direct" : "relay"}:${REMOTE_ENVIRONMENT_ID}`,
    proc,
    registry,
    stderr: executor.stderr,
    executorAlive: executor.alive,
    stop: async () => {
      await executor.stop();
      stopFakes();
      await registry[Symbol.asyncDispose]();
    },
  };
}

/** Resolves with `server` once `ready` does; otherwise stops it and says why, with its stderr. */
export async function whenReady<T extends RemoteTarget>(server: T, ready: Promise<unknown>, what: string): Promise<T> {
  try {
    await ready;
    if (!server.alive()) throw new Error(`exited with ${server.proc.exitCode ?? server.proc.signalCode}`);
    return server;
  } catch (e) {
    await server.stop();
    throw new Error(`${server.side} (${what}) did not start: ${(e as Error).message}\n${server.stderr()}`);
  }
}

export async function startRemoteServer(side: Side, runDir: string): Promise<RemoteServer> {
  const rendezvous = new FakeRendezvous();
  const registry = startFakeRegistry({ rendezvousUrl: rendezvous.url(), harnessUrl: rendezvous.harnessUrl(), bindAuthorizations: true });
  const harness = new NoiseHarness(rendezvous, registry, REMOTE_ENVIRONMENT_ID);
  // CODEX_API_KEY is the executor's registry bearer (the fake registry takes any).
  const launched = launchRemote(side, runDir, registry, [], { ...serverEnv(runDir), CODEX_API_KEY: "conformance-executor-key" }, () => rendezvous.stop());
  const connector = remoteConnector({ registry: registry.url, environmentId: REMOTE_ENVIRONMENT_ID, credentials: { bearer: "conformance-harness" }, resume: false });
  const server: RemoteServer = {
    ...launched,
    rendezvous,
    harness,
    connect: () => ChannelClient.open(connector),
    alive: () => launched.executorAlive() && rendezvous.connected,
  };
  const connected = rendezvous.waitFor(() => rendezvous.connected || !launched.executorAlive(), `${side}'s rendezvous socket`, REGISTER_WAIT_MS);
  return whenReady(server, connected, "--remote");
}
