/**
 * What the executor does with one inbound relay message, before any stream
 * state is consulted: the validation rules of 0.169.0 (remote.md §4, §6).
 * Frames that cannot be attributed to a stream are dropped; frames for a
 * stream that break its rules reset that stream; the rest go on to the stream
 * table (streams.ts).
 */
import { decodeRelayFrame, RELAY_FRAME_VERSION, RelayDecodeError, type RelayDataBody } from "./frame.ts";

export type InboundAction =
  /** Not a valid frame for any stream: logged and forgotten, nothing is sent. */
  | { action: "drop"; why: string }
  /** `ack_frame`, `resume`, `heartbeat`: reserved control frames, ignored (§5.8). */
  | { action: "ignore"; streamId: string }
  /** A frame for `streamId` that breaks the rules: the stream is removed and reset. */
  | { action: "reset"; streamId: string; why: string }
  /** The peer ended the stream (its reason is not authenticated: never trusted as fact). */
  | { action: "peer-reset"; streamId: string; reason: string }
  | { action: "handshake"; streamId: string; payload: Uint8Array }
  | { action: "data"; streamId: string; data: RelayDataIn };

/** A valid data frame's record. */
export interface RelayDataIn {
  seq: number;
  payload: Uint8Array;
  traceparent?: string;
  tracestate?: string;
}

/** A text WebSocket message: 0.169.0 drops it with a warning. */
export const TEXT_MESSAGE_DROP: InboundAction = { action: "drop", why: "text message on the relay socket" };

/** Classifies one binary WebSocket message. Never throws. */
export function classifyInbound(bytes: Uint8Array): InboundAction {
  let frame;
  try {
    frame = decodeRelayFrame(bytes);
  } catch (e) {
    if (e instanceof RelayDecodeError) return { action: "drop", why: e.message };
    throw e;
  }
  if (frame.version !== RELAY_FRAME_VERSION) return { action: "drop", why: `unsupported relay frame version ${frame.version}` };
  const streamId = frame.streamId;
  if (streamId.trim() === "") return { action: "drop", why: "relay frame without a stream id" };
  const body = frame.body;
  if (body === null) return { action: "drop", why: "relay frame without a body" };
  switch (body.kind) {
    case "reset":
      if (body.reason === "") return { action: "drop", why: "relay reset without a reason" };
      return { action: "peer-reset", streamId, reason: body.reason };
    case "handshake":
      if (body.payload.byteLength === 0) return { action: "reset", streamId, why: "relay handshake frame with an empty payload" };
      return { action: "handshake", streamId, payload: body.payload };
    case "data": {
      const invalid = invalidData(body);
      if (invalid) return { action: "reset", streamId, why: invalid };
      const data: RelayDataIn = { seq: body.seq, payload: body.payload };
      if (frame.traceparent !== undefined) data.traceparent = frame.traceparent;
      if (frame.tracestate !== undefined) data.tracestate = frame.tracestate;
      return { action: "data", streamId, data };
    }
    case "ack":
    case "resume":
    case "heartbeat":
      return { action: "ignore", streamId };
  }
}

/** Why a data frame is invalid (segmentation is reserved, §6), or undefined. */
function invalidData(body: RelayDataBody): string | undefined {
  if (body.segmentIndex !== 0 || body.segmentCount !== 1) {
    return `segmented relay data is not supported (segment ${body.segmentIndex} of ${body.segmentCount})`;
  }
  if (body.payload.byteLength === 0) return "relay data frame with an empty payload";
  return undefined;
}
