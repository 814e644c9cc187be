/**
 * Binary tunnel frames (`tunnel` extension version 2): a tunnel opened with
 * `binary: true` on a transport that carries binary messages (the executor's
 * WebSocket; not stdio, not a relay) moves its bytes as WebSocket binary
 * messages instead of base64 in `tunnel/write` / `tunnel/data`, which cost
 * both ends most of their CPU (base64, JSON, the schema check of a 683 KiB
 * string). Everything else about a tunnel stays JSON-RPC: `tunnel/open`,
 * `tunnel/ack`, `tunnel/written`, `tunnel/eof`, `tunnel/close`, `tunnel/closed`,
 * and `tunnel/write {eof: true}` for the half-close.
 *
 * Layout of one binary message:
 *
 * ```
 * byte 0       kind: 0x01 write (client → executor: bytes for the port, as a tunnel/write chunk)
 *                    0x02 data  (executor → client: bytes from the port, as tunnel/data)
 * byte 1       N, the tunnel id's length in bytes (1..255)
 * bytes 2..N+1 the tunnel id (ASCII, as `tunnel/open` returned it)
 * then         the payload: 1..MAX_TUNNEL_CHUNK_BYTES bytes
 * ```
 *
 * No sequence number: a WebSocket keeps its messages in order. A kind byte is
 * never the first byte of JSON text (which starts with `{`, `[`, or
 * whitespace), so a binary message holding JSON, which the reference accepts,
 * is still read as JSON. Until a tunnel on the connection is opened with
 * `binary: true`, no binary message is taken for a frame: the reference's
 * answers (a JSON parse error) stay those of a client that never opts in.
 */

export const TunnelFrameKind = { write: 0x01, data: 0x02 } as const;
export type TunnelFrameKind = (typeof TunnelFrameKind)[keyof typeof TunnelFrameKind];

/**
 * Why the executor closes a WebSocket over a binary tunnel frame it cannot
 * take (the close frame's code; its reason says what was wrong). Such a frame
 * breaks the framing rules rather than one tunnel's, so no tunnel can be told.
 */
export const TunnelFrameClose = {
  /** Not a frame: no tunnel id, a header longer than the message, no payload, or the executor's own kind. */
  malformed: 1002,
  /** The tunnel was not opened with `binary: true`, or the id was never a tunnel's. */
  notAllowed: 1008,
  /** The payload is over MAX_TUNNEL_CHUNK_BYTES. */
  tooBig: 1009,
} as const;
export type TunnelFrameRefusal = { code: number; reason: string };

/** Bytes in front of the tunnel id: kind and id length. */
const FIXED_HEADER_BYTES = 2;

/** Whether a binary message is a tunnel frame (else it is JSON text). */
export function isTunnelFrame(message: Uint8Array): boolean {
  const kind = message[0];
  return kind === TunnelFrameKind.write || kind === TunnelFrameKind.data;
}

/** Header bytes of a frame for `tunnelId`. */
export function tunnelFrameHeaderBytes(tunnelId: string): number {
  return FIXED_HEADER_BYTES + tunnelId.length;
}

/**
 * Writes the header for `tunnelId` at `into[at]`; returns where the payload
 * starts. Ids are ASCII (execbox's are UUIDs), at most 255 bytes.
 */
export function writeTunnelFrameHeader(into: Uint8Array, at: number, kind: TunnelFrameKind, tunnelId: string): number {
  into[at] = kind;
  into[at + 1] = tunnelId.length;
  for (let i = 0; i < tunnelId.length; i++) into[at + FIXED_HEADER_BYTES + i] = tunnelId.charCodeAt(i);
  return at + FIXED_HEADER_BYTES + tunnelId.length;
}

/**
 * A whole frame, written into `into` when it fits (a view of it is returned:
 * valid until `into` is reused), else into its own bytes.
 */
export function encodeTunnelFrame(kind: TunnelFrameKind, tunnelId: string, payload: Uint8Array, into?: Uint8Array): Uint8Array {
  const n = tunnelFrameHeaderBytes(tunnelId) + payload.byteLength;
  const out = into && into.byteLength >= n ? into.subarray(0, n) : new Uint8Array(n);
  out.set(payload, writeTunnelFrameHeader(out, 0, kind, tunnelId));
  return out;
}

export type DecodedTunnelFrame =
  /** `payload` is a view of the message. */
  | { ok: true; kind: TunnelFrameKind; tunnelId: string; payload: Uint8Array }
  | { ok: false; error: string };

/** Reads a message `isTunnelFrame` accepted; a truncated header, an empty id or an empty payload is an error (its text fits a close frame's reason). */
export function decodeTunnelFrame(message: Uint8Array): DecodedTunnelFrame {
  const kind = message[0] as TunnelFrameKind;
  const idLength = message[1] ?? 0;
  const payloadAt = FIXED_HEADER_BYTES + idLength;
  if (message.byteLength < FIXED_HEADER_BYTES || idLength === 0) return { ok: false, error: "binary tunnel frame without a tunnel id" };
  if (message.byteLength < payloadAt) return { ok: false, error: "binary tunnel frame shorter than its header" };
  if (message.byteLength === payloadAt) return { ok: false, error: "binary tunnel frame without payload" };
  let tunnelId = "";
  for (let i = FIXED_HEADER_BYTES; i < payloadAt; i++) tunnelId += String.fromCharCode(message[i]!);
  return { ok: true, kind, tunnelId, payload: message.subarray(payloadAt) };
}
