/**
 * Remote-mode plumbing for `bench/remote.ts`: the fake registry and routing
 * fake rendezvous (test/helpers) in a process of their own
 * (`remote-relay.ts`), an executor started fresh with `--remote` against
 * them, and harness streams opened through the registry's `connect` with
 * `connectRemote`'s connector, as thin BenchClients.
 */
import { join } from "node:path";
import { remoteConnector } from "../src/client/remote.ts";
import type { Connector } from "../src/client/transport.ts";
import { BenchClient } from "./client.ts";
import { withTimeout } from "./measure.ts";
import { type ServerCommand, makeTempDir, spawnTracked } from "./servers.ts";

const ENVIRONMENT = "bench-env";
/** A bound on every answer of the relay process (its own waits are shorter). */
const RELAY_ANSWER_MS = 30_000;

type RelayAnswer = { registry?: string; opened?: number; error?: string };

export type Relay = { pid: number; connector: Connector; registryUrl: string; home: string; executors: number; send(m: object): void; ask(m: object): Promise<RelayAnswer>; stop(): Promise<void> };

export type RemoteExecutor = { pid: number; label: string; stderr(): string; kill(): Promise<void> };

/** Starts `remote-relay.ts` (registry + rendezvous) and waits for its registry URL. */
export async function startRelay(): Promise<Relay> {
  let answered: ((a: RelayAnswer) => void) | null = null;
  const next = () => withTimeout(new Promise<RelayAnswer>((resolve) => (answered = resolve)), RELAY_ANSWER_MS, "the relay process");
  const first = next();
  const { proc, stderr, kill } = spawnTracked([process.execPath, join(import.meta.dir, "remote-relay.ts")], undefined, (m) => answered?.(m as RelayAnswer));
  const up = await first.catch((e: Error) => Promise.reject(new Error(`${e.message}; stderr: ${stderr()}`)));
  const registryUrl = up.registry!;
  return {
    pid: proc.pid,
    registryUrl,
    connector: harnessConnector(registryUrl),
    home: makeTempDir("execbox-bench-remote-home-"),
    executors: 0,
    send: (m) => proc.send(m),
    ask(m) {
      const answer = next();
      proc.send(m);
      return answer;
    },
    stop: kill,
  };
}

/** Starts `cmd --remote …` and waits until it registered and holds the rendezvous socket. */
export async function startExecutor(cmd: ServerCommand, relay: Relay): Promise<RemoteExecutor> {
  relay.send({ clear: true });
  const argv = [...cmd.argv, "--remote", relay.registryUrl, "--environment-id", ENVIRONMENT];
  const env = { PATH: "/usr/bin:/bin", HOME: relay.home, CODEX_HOME: relay.home, CODEX_API_KEY: "bench-executor" };
  const { proc, stderr, kill } = spawnTracked(argv, env);
  void new Response(proc.stdout).text();
  const ready = await relay.ask({ wait: ++relay.executors }).catch((e: Error) => ({ error: e.message }));
  if (ready.error !== undefined) {
    await kill();
    throw new Error(`${cmd.label}: ${ready.error}; stderr: ${stderr().slice(0, 2000)}`);
  }
  return { pid: proc.pid, label: cmd.label, stderr, kill };
}

/** A harness connector of its own: each `open` of one connector replaces (resets) the stream it opened before. */
export function harnessConnector(registryUrl: string): Connector {
  return remoteConnector({ registry: registryUrl, environmentId: ENVIRONMENT, credentials: { bearer: "bench-harness" }, resume: false });
}

/**
 * One Noise stream to the current executor, initialized. On the relay's own
 * connector it replaces the stream opened before; pass a fresh connector
 * (`harnessConnector`) for a stream beside it.
 */
export async function openStream(relay: Relay, connector: Connector = relay.connector): Promise<BenchClient> {
  const client = await BenchClient.open(connector);
  await client.handshake();
  return client;
}

/** A fresh executor and one initialized stream for `fn`; both are gone afterwards. */
export async function withExecutor<T>(cmd: ServerCommand, relay: Relay, fn: (client: BenchClient, executor: RemoteExecutor) => Promise<T>): Promise<T> {
  const executor = await startExecutor(cmd, relay);
  try {
    const client = await openStream(relay);
    try {
      return await fn(client, executor);
    } finally {
      client.close();
    }
  } finally {
    await executor.kill();
  }
}
