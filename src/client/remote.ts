/**
 * The harness side of remote mode (remote.md §2.5, §5): reach an executor
 * that registered with an environment registry (`exec-server --remote`).
 * Each connection asks the registry's `…/connect` for a fresh bundle with a
 * fresh harness identity, dials the harness rendezvous URL, and opens one
 * Noise stream pinned to the executor key the registry vouches for.
 *
 * One rendezvous socket per stream, deliberately not one shared socket per
 * (URL, credentials): the protocol binds a harness socket to one `…/connect`
 * bundle (§2.5: a fresh bundle — identity, short-lived authorization bound to
 * that key, and URL, signed in production (§3) — per harness (re)connect),
 * and the reference harness does exactly this (one stream per websocket).
 * The relay multiplexes the *executor's* socket, which many harnesses must
 * reach through NAT; a harness dials out freely. A socket costs one TCP
 * connect and upgrade, little next to the registry round trips and hybrid
 * handshake each stream needs anyway, and keeps one stalled session from
 * holding up the client's others on a shared TCP stream (the relay has no
 * per-stream flow control, §5.8).
 *
 * Bun only (the rendezvous socket is a raw Bun TCP socket), so it is the
 * package's `execbox/remote` entry, not part of the Node-compatible index.
 *
 * @example
 * const client = await connectRemote({ registry: "https://registry.example", environmentId: "env-1", credentials: { bearer: token } });
 * const info = await client.call("environment/info", {});
 */
import { parseNoiseKeyJson, toNoiseKeyJson } from "../remote/noise/key-json.ts";
import { HybridKeyPair } from "../remote/noise/keys.ts";
import { connect } from "../remote/registry.ts";
import type { RegistryAuth } from "../remote/registry-auth.ts";
import { type ClientOptions, ExecboxClient } from "./client.ts";
import { ExecboxConnectionError } from "./errors.ts";
import { openNoiseChannel } from "./noise-channel.ts";
import type { Connector } from "./transport.ts";

export { HARNESS_CLOSE_REASON, HARNESS_REPLACED_REASON, REMOTE_HANDSHAKE_TIMEOUT_MS } from "./noise-channel.ts";
export { SEND_HIGH_WATER_BYTES } from "./calls.ts";

export type RemoteCredentials = { bearer: string } | RegistryAuth;

export type RemoteOptions = {
  /** The registry's base URL (what the executor got as `--remote`). */
  registry: string;
  environmentId: string;
  /** The harness's own registry credentials: `Authorization: Bearer …`, or SigV4. */
  credentials: RemoteCredentials;
  /** How long the executor may take to answer message 1 (default REMOTE_HANDSHAKE_TIMEOUT_MS). */
  handshakeTimeoutMs?: number;
  /**
   * Whether a lost stream is resumed: a new bundle, a new stream and
   * `initialize {resumeSessionId}` (the executor keeps a detached session
   * ≈ 80 s). Off: a lost stream fails the client and its pending calls.
   */
  resume?: boolean;
};

export type RemoteClientOptions = ClientOptions & RemoteOptions;

function registryAuth(credentials: RemoteCredentials): RegistryAuth {
  return "bearer" in credentials ? { kind: "bearer", token: credentials.bearer, fromStdin: false } : credentials;
}

/**
 * A connector that opens one Noise stream, on its own rendezvous socket, to
 * the environment's executor per `open`. Each `open` after the first resets
 * the previous stream on the new socket before opening the new one (see
 * NoiseChannelParams.replacesStreamId).
 */
export function remoteConnector(options: RemoteOptions): Connector {
  const target = { baseUrl: options.registry, environmentId: options.environmentId, auth: registryAuth(options.credentials) };
  /** The last stream that completed its handshake: the one a session may still be attached to. */
  let lastStreamId: string | undefined;
  return {
    target: `environment ${options.environmentId} at ${options.registry}`,
    resumable: options.resume ?? true,
    async open(events) {
      // A fresh identity per stream: the registry's authorization is bound to it (§2.5).
      const harnessKeys = HybridKeyPair.generate();
      let bundle;
      try {
        bundle = await connect(target, toNoiseKeyJson(harnessKeys.publicKeys));
      } catch (e) {
        throw new ExecboxConnectionError(`registry connect for environment ${options.environmentId} failed: ${(e as Error).message}`);
      }
      let executorKey;
      try {
        executorKey = parseNoiseKeyJson(bundle.executor_public_key);
      } catch (e) {
        throw new ExecboxConnectionError(`registry connect returned an unusable executor key: ${(e as Error).message}`);
      }
      const params = {
        streamId: crypto.randomUUID(),
        ...(lastStreamId === undefined ? {} : { replacesStreamId: lastStreamId }),
        url: bundle.url,
        environmentId: bundle.environment_id,
        executorRegistrationId: bundle.executor_registration_id,
        executorKey,
        authorization: bundle.harness_key_authorization,
        harnessKeys,
      };
      const channel = await openNoiseChannel(options.handshakeTimeoutMs === undefined ? params : { ...params, handshakeTimeoutMs: options.handshakeTimeoutMs }, events);
      lastStreamId = params.streamId;
      return channel;
    },
  };
}

/** Connects through the registry and rendezvous and initializes a session, exactly like `connectWebSocket` otherwise. */
export function connectRemote(options: RemoteClientOptions): Promise<ExecboxClient> {
  return ExecboxClient.connect(remoteConnector(options), options);
}
