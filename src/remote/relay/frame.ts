/**
 * Typed relay frames (`codex.exec_server.relay.v1.RelayMessageFrame`) and their
 * protobuf encoding. Encoding is proto3 as prost writes it: scalars equal to
 * their default are omitted, so `seq` 0 and `segment_index` 0 never appear on
 * the wire while `segment_count` 1 does (remote.md §4 byte shapes).
 *
 * @example
 *   const bytes = encodeRelayFrame(resetFrame(streamId));
 *   const frame = decodeRelayFrame(bytes); // frame.body.kind === "reset"
 */
import type protobuf from "protobufjs/light.js";
import { relayFrameType } from "./schema.ts";

/** The only relay frame version 0.169.0 speaks; others are dropped. */
export const RELAY_FRAME_VERSION = 1;
/** The one reason string the executor puts in the resets it sends (remote.md §5.8). */
export const RELAY_RESET_REASON = "noise_relay_protocol_error";

/**
 * One Noise transport record for a stream. `segmentIndex`/`segmentCount` are
 * reserved (0 and 1, §6). `payload`, decoded, is lent: see `decodeRelayFrame`.
 */
export type RelayDataBody = { kind: "data"; seq: number; segmentIndex: number; segmentCount: number; payload: Uint8Array };
export type RelayBody =
  | RelayDataBody
  | { kind: "ack" }
  | { kind: "resume"; nextSeq: number }
  | { kind: "reset"; reason: string }
  | { kind: "heartbeat" }
  | { kind: "handshake"; payload: Uint8Array };
export type RelayBodyKind = RelayBody["kind"];

export interface RelayFrame {
  version: number;
  streamId: string;
  /** Reserved (§6): the executor always sends 0. */
  ack: number;
  ackBits: number;
  /** null when the frame carried no body: such a frame is invalid and dropped. */
  body: RelayBody | null;
  traceparent?: string;
  tracestate?: string;
}

/** The bytes were not a RelayMessageFrame at all. */
export class RelayDecodeError extends Error {
  override name = "RelayDecodeError";
}

/** Body kind → protobuf oneof member name. */
const ONEOF_FIELD: Record<RelayBodyKind, string> = {
  data: "data",
  ack: "ackFrame",
  resume: "resume",
  reset: "reset",
  heartbeat: "heartbeat",
  handshake: "handshake",
};

/** A frame for `streamId` with the reserved fields at 0, as the executor sends every frame. */
export function relayFrame(streamId: string, body: RelayBody, trace?: { traceparent?: string; tracestate?: string }): RelayFrame {
  return { version: RELAY_FRAME_VERSION, streamId, ack: 0, ackBits: 0, body, ...trace };
}

/** A data frame carrying one record; `seq` is the Noise nonce the record consumed (§5.7). */
export const dataFrame = (streamId: string, seq: number, payload: Uint8Array): RelayFrame =>
  relayFrame(streamId, { kind: "data", seq, segmentIndex: 0, segmentCount: 1, payload });
export const handshakeFrame = (streamId: string, payload: Uint8Array): RelayFrame => relayFrame(streamId, { kind: "handshake", payload });
export const resetFrame = (streamId: string, reason: string = RELAY_RESET_REASON): RelayFrame => relayFrame(streamId, { kind: "reset", reason });
/** What a harness sends first to claim a stream id at the rendezvous (the executor never sends it). */
export const resumeFrame = (streamId: string, nextSeq = 0): RelayFrame => relayFrame(streamId, { kind: "resume", nextSeq });

/** The protobufjs message object for a body. Default scalars are left out (proto3 omits them either way). */
function bodyMessage(body: RelayBody): Record<string, unknown> {
  switch (body.kind) {
    case "data":
      return { seq: body.seq, segmentIndex: body.segmentIndex, segmentCount: body.segmentCount, payload: body.payload };
    case "resume":
      return { nextSeq: body.nextSeq };
    case "reset":
      return { reason: body.reason };
    case "handshake":
      return { payload: body.payload };
    case "ack":
    case "heartbeat":
      return {};
  }
}

/** The protobufjs message object for a frame. */
function frameMessage(frame: RelayFrame): Record<string, unknown> {
  const message: Record<string, unknown> = { version: frame.version, streamId: frame.streamId, ack: frame.ack, ackBits: frame.ackBits };
  if (frame.body) message[ONEOF_FIELD[frame.body.kind]] = bodyMessage(frame.body);
  if (frame.traceparent !== undefined) message.traceparent = frame.traceparent;
  if (frame.tracestate !== undefined) message.tracestate = frame.tracestate;
  return message;
}

export function encodeRelayFrame(frame: RelayFrame): Uint8Array {
  return relayFrameType().encode(frameMessage(frame)).finish();
}

/**
 * Encodes `frame` with protobufjs into `writer` from its current position on
 * (a reused writer: no buffer is allocated once it has grown to fit).
 * Returns the writer; the frame is `writer.buf[start, writer.pos)`.
 */
export function encodeRelayFrameInto(frame: RelayFrame, writer: protobuf.Writer): protobuf.Writer {
  return relayFrameType().encode(frameMessage(frame), writer);
}

type Decoded = Record<string, unknown> & { version: number; streamId: string; ack: number; ackBits: number };

/**
 * Decodes one frame. Omitted and explicit zero values read the same, and an
 * empty nested message is a present body. A handshake payload is copied, so
 * it outlives `bytes` (the socket reuses its read buffer; a handshake may
 * wait for a free slot). A data payload is lent: a view of `bytes`, valid
 * only during the call that handed `bytes` over. Every receiver decrypts it
 * at once or copies it to hold it out of order (noise/reorder.ts); copying
 * every record here was a tenth of the harness's CPU on a 64 MiB stream.
 * @throws RelayDecodeError when the bytes are not protobuf of this schema.
 */
export function decodeRelayFrame(bytes: Uint8Array): RelayFrame {
  let m: Decoded;
  try {
    m = relayFrameType().decode(bytes) as unknown as Decoded;
  } catch (e) {
    throw new RelayDecodeError(`invalid relay frame: ${(e as Error).message}`);
  }
  const frame: RelayFrame = { version: m.version, streamId: m.streamId, ack: m.ack, ackBits: m.ackBits, body: readBody(m) };
  if (typeof m.traceparent === "string") frame.traceparent = m.traceparent;
  if (typeof m.tracestate === "string") frame.tracestate = m.tracestate;
  return frame;
}

/** Oneof member name → body kind. */
const BODY_KIND = Object.fromEntries(Object.entries(ONEOF_FIELD).map(([kind, field]) => [field, kind])) as Record<string, RelayBodyKind>;

/**
 * The body, or null for none. protobufjs names the member set in the oneof's
 * virtual field (`body`); with several on the wire the last one wins, as in prost.
 */
function readBody(m: Decoded): RelayBody | null {
  const field = m.body as string | undefined;
  const kind = field === undefined ? undefined : BODY_KIND[field];
  if (field === undefined || kind === undefined) return null;
  const b = m[field] as Record<string, unknown>;
  const copy = (v: unknown) => new Uint8Array(v as Uint8Array); // A plain copy: protobufjs hands out views (Buffers) of the input.
  // The view itself; an absent field is protobufjs's default, a plain empty array.
  const lend = (v: unknown) => (v instanceof Uint8Array ? v : new Uint8Array(0));
  switch (kind) {
    case "data":
      return { kind, seq: b.seq as number, segmentIndex: b.segmentIndex as number, segmentCount: b.segmentCount as number, payload: lend(b.payload) };
    case "resume":
      return { kind, nextSeq: b.nextSeq as number };
    case "reset":
      return { kind, reason: b.reason as string };
    case "handshake":
      return { kind, payload: copy(b.payload) };
    case "ack":
    case "heartbeat":
      return { kind };
  }
}
