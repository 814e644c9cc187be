/**
 * One harness stream through the rendezvous (remote.md §3, §5): its own
 * WebSocket to the harness URL, `resume{0}` + `handshake{message 1}`, message 2
 * classified, then a client Channel whose JSON-RPC messages travel as Noise
 * records (4-byte framing, ≤ 60 KiB records, `seq` = nonce) in relay `data`
 * frames. Every failure is an ExecboxConnectionError saying which step failed.
 */
import { NoiseError } from "../remote/noise/errors.ts";
import { NoiseInitiator } from "../remote/noise/initiator.ts";
import type { HybridKeyPair, HybridPublicKeys } from "../remote/noise/keys.ts";
import { classifyResponderPayload } from "../remote/noise/payloads.ts";
import { buildPrologue } from "../remote/noise/prologue.ts";
import { type NoiseStreamReceiver, type NoiseStreamSender, openNoiseStream } from "../remote/noise/stream.ts";
import { dataFrame, encodeRelayFrame, handshakeFrame, type RelayFrame, resetFrame, resumeFrame } from "../remote/relay/frame.ts";
import { RELAY_CONNECT_TIMEOUT_MS, RELAY_MAX_FRAME_BYTES, RELAY_PING_INTERVAL_MS, RELAY_PONG_TIMEOUT_MS } from "../remote/relay/limits.ts";
import { classifyInbound } from "../remote/relay/validate.ts";
import { RendezvousSocket } from "../remote/relay/ws-client.ts";
import { systemClock } from "../server/clock.ts";
import { ExecboxConnectionError } from "./errors.ts";
import type { Channel, ChannelEvents } from "./transport.ts";

/**
 * How long the executor may take to answer message 1. It validates the
 * harness key with the registry first, bounded at 10 s (§2.4); 5 s more
 * covers the relay and the handshake itself. Past it: `no Noise message 2
 * from the executor within 15000 ms`.
 */
export const REMOTE_HANDSHAKE_TIMEOUT_MS = 15_000;
/** The reason of the reset a harness sends when its client closes the stream (the executor accepts any non-empty reason). */
export const HARNESS_CLOSE_REASON = "harness_closed";
/** The reason of the reset a new stream sends first for the stream it replaces (see `replacesStreamId`). */
export const HARNESS_REPLACED_REASON = "harness_stream_replaced";

export type NoiseChannelParams = {
  /** The harness rendezvous URL from `…/connect`. */
  url: string;
  environmentId: string;
  executorRegistrationId: string;
  /** Pinned from `…/connect`: the responder static of the handshake. */
  executorKey: HybridPublicKeys;
  /** `harness_key_authorization`, sent as message 1's payload. */
  authorization: string;
  harnessKeys: HybridKeyPair;
  handshakeTimeoutMs?: number;
  /** The new stream's id (a UUIDv4; it goes into the prologue). */
  streamId: string;
  /**
   * The client's previous stream, if any. It is reset on the new socket
   * before the new stream opens, so the executor detaches its session before
   * a resume on the new stream can ask for it (otherwise -32010 "already
   * attached" whenever the rendezvous tells the executor late, or never, that
   * the old harness socket is gone). Harmless when the executor already knows.
   */
  replacesStreamId?: string;
};

type Active = { sender: NoiseStreamSender; receiver: NoiseStreamReceiver };

/** Opens a stream and completes its handshake; resolves with the channel once message 2 is accepted. */
export async function openNoiseChannel(params: NoiseChannelParams, events: ChannelEvents): Promise<Channel> {
  const { streamId } = params;
  const initiator = new NoiseInitiator({
    prologue: buildPrologue({ environmentId: params.environmentId, executorRegistrationId: params.executorRegistrationId, streamId }),
    localStatic: params.harnessKeys,
    remoteStatic: params.executorKey,
  });
  const handshake = Promise.withResolvers<Active>();
  let active: Active | null = null;
  let failed: string | null = null;
  const decoder = new TextDecoder("utf-8", { fatal: true });

  const channel = {
    closed: false,
    /** Relay frames the kernel has not taken: the client holds further calls above SEND_HIGH_WATER_BYTES. */
    get queuedBytes() {
      return socket.queuedBytes;
    },
    send(text: string) {
      if (channel.closed || !active) throw new ExecboxConnectionError("connection is closed");
      for (const record of active.sender.send(new TextEncoder().encode(text))) {
        socket.sendBinary(encodeRelayFrame(dataFrame(streamId, record.seq, record.ciphertext)));
      }
    },
    async close() {
      if (channel.closed) return;
      // The executor detaches the session on a reset, as when a --listen WebSocket closes.
      socket.sendBinary(encodeRelayFrame(resetFrame(streamId, HARNESS_CLOSE_REASON)));
      fail("closed by the client");
    },
  };
  /** Ends the stream once: before the handshake it rejects the open, after it reports `closed`. */
  const fail = (why: string) => {
    if (failed !== null) return;
    failed = why;
    channel.closed = true;
    if (!socket.closed) socket.close(why);
    if (active) events.closed(why);
    else handshake.reject(new ExecboxConnectionError(why));
  };
  const onFrame = (bytes: Uint8Array) => {
    const action = classifyInbound(bytes);
    if (action.action === "drop" || action.action === "ignore" || action.streamId !== streamId) return;
    switch (action.action) {
      case "peer-reset":
        return fail(active ? "the executor reset the stream" : "the executor refused the stream (relay reset): the registry did not validate the harness key, or message 1 was rejected");
      case "reset":
        return fail(`invalid relay frame from the rendezvous: ${action.why}`);
      case "handshake":
        if (active) return fail("the executor sent a second handshake message on an active stream");
        return onMessage2(action.payload);
      case "data":
        if (!active) return fail("the executor sent data before Noise message 2");
        return onData(active, action.data.seq, action.data.payload);
    }
  };
  const onMessage2 = (message: Uint8Array) => {
    let result;
    try {
      result = initiator.readMessage2(message);
    } catch (e) {
      return fail(`Noise handshake with the executor failed: ${(e as Error).message}`);
    }
    const verdict = classifyResponderPayload(result.payload);
    if (verdict === "registry-auth-rejected") {
      return fail("the registry rejected the executor's own credentials (message 2 carried codex-registry-authentication-rejected/v1); the stream was not opened");
    }
    if (verdict === "invalid") return fail(`Noise message 2 carried an unexpected ${result.payload.length}-byte payload`);
    active = openNoiseStream(result.keys);
    handshake.resolve(active);
  };
  const onData = (stream: Active, seq: number, payload: Uint8Array) => {
    let messages: Uint8Array[];
    try {
      messages = stream.receiver.receive(seq, payload);
    } catch (e) {
      return fail(`undecryptable stream data from the executor: ${e instanceof NoiseError ? e.message : String(e)}`);
    }
    for (const m of messages) {
      if (channel.closed) return;
      let text: string;
      try {
        text = decoder.decode(m);
      } catch {
        return fail("the executor sent a message that is not UTF-8");
      }
      events.message(text);
    }
  };

  let socket: RendezvousSocket;
  try {
    socket = await RendezvousSocket.dial(
      params.url,
      {
        onMessage: (payload, binary) => (binary ? onFrame(payload) : fail("the rendezvous sent a text message")),
        onDrain: () => active && !channel.closed && events.drained?.(),
        onClose: (why) => fail(`relay connection closed: ${why}`),
      },
      {
        connectTimeoutMs: RELAY_CONNECT_TIMEOUT_MS,
        pingIntervalMs: RELAY_PING_INTERVAL_MS,
        pongTimeoutMs: RELAY_PONG_TIMEOUT_MS,
        maxMessageBytes: RELAY_MAX_FRAME_BYTES,
        clock: systemClock,
      },
    );
  } catch (e) {
    throw new ExecboxConnectionError(`cannot reach the rendezvous at ${params.url}: ${(e as Error).message}`);
  }
  socket.start();
  const send = (frame: RelayFrame) => socket.sendBinary(encodeRelayFrame(frame));
  if (params.replacesStreamId !== undefined) send(resetFrame(params.replacesStreamId, HARNESS_REPLACED_REASON));
  send(resumeFrame(streamId));
  send(handshakeFrame(streamId, initiator.writeMessage1(new TextEncoder().encode(params.authorization))));
  const timeoutMs = params.handshakeTimeoutMs ?? REMOTE_HANDSHAKE_TIMEOUT_MS;
  const timer = setTimeout(() => fail(`no Noise message 2 from the executor within ${timeoutMs} ms`), timeoutMs);
  try {
    await handshake.promise;
  } finally {
    clearTimeout(timer);
  }
  return channel;
}
