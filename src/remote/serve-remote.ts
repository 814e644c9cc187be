/**
 * Remote mode, noise transport (remote.md §2.3, §3, §5): registers the
 * process's static identity with the environment registry, keeps a
 * rendezvous connection up (re-registering when the rendezvous refuses its
 * URL), and serves every handshaken stream through the same server core as
 * a `--listen` WebSocket connection.
 *
 * @example
 *   const remote = await startRemote(exec, { baseUrl, environmentId, registrationBearerStdin: false }, { env: process.env, stdin });
 *   await remote.done; // rejects if re-registration fails
 */
import type { ExecServer } from "../server/exec-server.ts";
import { NoiseStreams, type Route } from "./noise-streams.ts";
import { processStaticIdentity, toNoiseKeyJson } from "./noise/index.ts";
import { type CredentialFlags, registryAuthFor } from "./registry-credentials.ts";
import { type RegistryTarget, registerWithRetry, validate } from "./registry.ts";
import { RelayClient, type RelayClientEvent } from "./relay/index.ts";
import { componentLog } from "../log/logger.ts";

export type RemoteServeOptions = CredentialFlags & { environmentId: string };

export type RemoteDeps = {
  env: Record<string, string | undefined>;
  stdin: AsyncIterable<Uint8Array>;
  log?: (line: string) => void;
};

export type RemoteServer = {
  /** Settles when the relay client stops; rejects when re-registration fails (exit 1). */
  done: Promise<void>;
  stop(): Promise<void>;
};

/** Registers (the first failure is thrown: exit 1), then connects in the background. */
export async function startRemote(exec: ExecServer, options: RemoteServeOptions, deps: RemoteDeps): Promise<RemoteServer> {
  const log = deps.log ?? componentLog("remote");
  const target: RegistryTarget = { baseUrl: options.baseUrl, environmentId: options.environmentId, auth: await registryAuthFor(options, deps.env, deps.stdin) };
  const identity = processStaticIdentity();
  const key = toNoiseKeyJson(identity.publicKeys);
  let route: Route;
  const register = async (): Promise<string> => {
    const answer = await registerWithRetry(target, key, {
      onConflict: (attempt, delayMs) => log(`registration conflict (attempt ${attempt + 1}); retrying in ${delayMs} ms`),
    });
    route = { environmentId: answer.environment_id, executorRegistrationId: answer.executor_registration_id };
    log(`registered environment ${route.environmentId} (registration ${route.executorRegistrationId})`);
    return answer.url;
  };
  const url = await register();
  const streams = new NoiseStreams({
    exec,
    identity,
    route: () => route,
    validate: (streamId, harness, authorization, signal) =>
      validate(
        target,
        streamId,
        { executor_registration_id: route.executorRegistrationId, harness_public_key: toNoiseKeyJson(harness), harness_key_authorization: authorization },
        signal,
      ),
    log,
  });
  const relay = new RelayClient({ url, handler: streams, reregister: () => register(), onEvent: (e) => logEvent(e, log), log });
  const done = relay.start();
  return { done, stop: () => relay.stop() };
}

/** Connection events, without the URL (its query may carry a signature). */
function logEvent(event: RelayClientEvent, log: (line: string) => void): void {
  switch (event.type) {
    case "connected":
      return log("rendezvous connected");
    case "retry":
      return log(`rendezvous reconnecting in ${event.delayMs} ms`);
    case "reregister":
      return log(`rendezvous refused the connection (HTTP ${event.status}); registering again`);
  }
}
