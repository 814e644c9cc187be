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

export type RemoteServer = {
  side: Side;
  /** Not dialled: connections are Noise streams (`connect`). Kept so the runner treats both legs alike. */
  url: string;
  proc: Bun.Subprocess<"ignore", "ignore", "pipe">;
  registry: FakeRegistry;
  rendezvous: FakeRendezvous;
  harness: NoiseHarness;
  /** One new Noise stream to the executor, as a RawClient. */
  connect(): Promise<RawClient>;
  stderr(): string;
  alive(): boolean;
  stop(): Promise<void>;
};

export async function startRemoteServer(side: Side, runDir: string): Promise<RemoteServer> {
  const rendezvous = new FakeRendezvous();
  const registry = startFakeRegistry({ rendezvousUrl: rendezvous.url(), harnessUrl: rendezvous.harnessUrl(), bindAuthorizations: true });
  const harness = new NoiseHarness(rendezvous, registry, REMOTE_ENVIRONMENT_ID);
  const proc = Bun.spawn([...commandFor(side), "--remote", registry.url, "--environment-id", REMOTE_ENVIRONMENT_ID], {
    cwd: join(runDir, "cwd"),
    // CODEX_API_KEY is the executor's registry bearer (the fake registry takes any).
    env: { ...serverEnv(runDir), CODEX_API_KEY: "conformance-executor-key" },
    stdin: "ignore",
    stdout: "ignore",
    stderr: "pipe",
  });
  const executor = supervise(proc);
  const connector = remoteConnector({ registry: registry.url, environmentId: REMOTE_ENVIRONMENT_ID, credentials: { bearer: "conformance-harness" }, resume: false });
  const server: RemoteServer = {
    side,
    url: `relay:${REMOTE_ENVIRONMENT_ID}`,
    proc,
    registry,
    rendezvous,
    harness,
    connect: () => ChannelClient.open(connector),
    stderr: executor.stderr,
    alive: () => executor.alive() && rendezvous.connected,
    stop: async () => {
      await executor.stop();
      rendezvous.stop();
      await registry[Symbol.asyncDispose]();
    },
  };
  try {
    await rendezvous.waitFor(() => rendezvous.connected || !executor.alive(), `${side}'s rendezvous socket`, REGISTER_WAIT_MS);
    if (!executor.alive()) throw new Error(`exited with ${proc.exitCode ?? proc.signalCode}`);
    return server;
  } catch (e) {
    await server.stop();
    throw new Error(`${side} (--remote) did not start: ${(e as Error).message}\n${executor.stderr()}`);
  }
}
