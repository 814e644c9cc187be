/**
 * Frames built as bytes, never as a JS string: the `process/output`
 * notification, which is nearly all of the traffic while a process streams,
 * and the replies that carry file bytes (`fs/readBlock`, `fs/readFile`).
 * A string per chunk (its base64 plus the frame around it) lives until the
 * next collection, and at hundreds of MB/s that garbage, not the stream, set
 * the server's peak memory. Here the base64 is written straight into one
 * reused buffer (see `base64-encode.ts`), which the transport sends from.
 */
import { createFrameArena } from "./base64-encode.ts";
import type { OutputStream } from "./messages/process.ts";
import { TunnelFrameKind, tunnelFrameHeaderBytes, writeTunnelFrameHeader } from "./tunnel-frame.ts";

/** Bytes a transport may write in front of a `ByteFrame` (a WebSocket header is at most 10). */
export const FRAME_HEADROOM = 10;

declare const lent: unique symbol;

/**
 * A frame's JSON as UTF-8 in `buf[start, end)`. `buf[start - FRAME_HEADROOM,
 * start)` and `buf[end]` are scratch the transport may overwrite (a frame
 * header, a newline).
 *
 * Lent, not given: it points into a buffer the next encode rewrites, so it is
 * valid only during the one `send` it is passed to — never kept, never
 * awaited across. The brand keeps it out of anything typed to hold frames
 * (the flow's queue holds `KeptFrame`s, made by `keepFrame`, a copy); and with
 * `EXECBOX_CHECK_LENT_FRAMES=1` (the test suite) the flow overwrites it once
 * its send returns, so a transport that kept one sends garbage and fails.
 */
export type LentFrame = {
  readonly buf: Uint8Array;
  readonly start: number;
  readonly end: number;
  /** Bytes for a binary message (a tunnel frame), not JSON: only a transport that carries binary is given one. */
  readonly binary?: true;
  readonly [lent]: true;
};

/** Overwrite lent frames after their send (see LentFrame); off in production, on in tests. */
export const CHECK_LENT_FRAMES = process.env.EXECBOX_CHECK_LENT_FRAMES === "1";

/** Ends a lent frame's loan: with the check on, its bytes become `#`s (not JSON: any late reader fails). */
export function endLoan(frame: LentFrame): void {
  if (CHECK_LENT_FRAMES) frame.buf.fill(0x23, frame.start, frame.end);
}

/**
 * Frames up to this size are built in one shared buffer (a 1 MiB
 * `fs/readBlock` reply is ~1.4 MiB; only the pages used cost memory); anything
 * larger (a big `fs/readFile`) gets a buffer of its own, freed with the frame,
 * so one large reply does not pin its size for the life of the server.
 */
export const SHARED_FRAME_BUFFER_MAX = 2 * 1024 * 1024;

const frames = createFrameArena(SHARED_FRAME_BUFFER_MAX);

/** `{"method":"process/output","params":{…,"chunk":"<base64>"}}` for `bytes`, in a shared buffer. */
export function encodeOutputFrame(processId: string, seq: number, stream: OutputStream, bytes: Uint8Array): LentFrame {
  const head = `{"method":"process/output","params":{"processId":${JSON.stringify(processId)},"seq":${seq},"stream":"${stream}","chunk":"`;
  return encodeBase64Frame(head, bytes, '"}}');
}

/** `head` + base64 of `bytes` + `tail` as one frame (head and tail are JSON text; base64 needs no escaping). */
export function encodeBase64Frame(head: string, bytes: Uint8Array, tail: string): LentFrame {
  const headBytes = Buffer.byteLength(head);
  const base64Bytes = Math.ceil(bytes.byteLength / 3) * 4;
  const base64Start = FRAME_HEADROOM + headBytes;
  const tailAt = base64Start + base64Bytes;
  const end = tailAt + Buffer.byteLength(tail);
  const buf = bufferFor(end + 1);
  const start = base64Start - headBytes;
  buf.write(head, start, "utf8");
  frames.write(bytes, buf, base64Start);
  buf.write(tail, tailAt, "utf8");
  return lend(buf, start, end);
}

/** A binary tunnel `data` frame for `bytes` (see tunnel-frame.ts), in the shared buffer. */
export function encodeTunnelDataFrame(tunnelId: string, bytes: Uint8Array): LentFrame {
  const start = FRAME_HEADROOM;
  const end = start + tunnelFrameHeaderBytes(tunnelId) + bytes.byteLength;
  const buf = bufferFor(end + 1);
  buf.set(bytes, writeTunnelFrameHeader(buf, start, TunnelFrameKind.data, tunnelId));
  return lend(buf, start, end, true);
}

/** The one place a frame is lent: a view of a buffer its owner will rewrite. */
function lend(buf: Uint8Array, start: number, end: number, binary?: true): LentFrame {
  return (binary ? { buf, start, end, binary } : { buf, start, end }) as unknown as LentFrame;
}

function bufferFor(size: number): Buffer {
  return size > SHARED_FRAME_BUFFER_MAX ? Buffer.allocUnsafeSlow(size) : frames.arena;
}

/** The frame's JSON text (tests, and transports without a byte path). */
export function byteFrameText(frame: LentFrame): string {
  return Buffer.from(frame.buf.buffer, frame.buf.byteOffset + frame.start, frame.end - frame.start).toString("utf8");
}
