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

/** Bytes a transport may write in front of a `ByteFrame` (a WebSocket header is at most 10). */
export const FRAME_HEADROOM = 10;

/**
 * A frame's JSON as UTF-8 in `buf[start, end)`. `buf[start - FRAME_HEADROOM,
 * start)` and `buf[end]` are scratch the transport may overwrite (a frame
 * header, a newline). Borrowed: valid only during the send it is passed to, so
 * whoever keeps it copies it.
 */
export type ByteFrame = { buf: Uint8Array; start: number; end: number };

/**
 * Frames up to this size are built in one shared buffer (a 1 MiB
 * `fs/readBlock` reply is ~1.4 MiB; only the pages used cost memory); anything
 * larger (a big `fs/readFile`) gets a buffer of its own, freed with the frame,
 * so one large reply does not pin its size for the life of the server.
 */
export const SHARED_FRAME_BUFFER_MAX = 2 * 1024 * 1024;

const frames = createFrameArena(SHARED_FRAME_BUFFER_MAX);

/** `{"method":"process/output","params":{…,"chunk":"<base64>"}}` for `bytes`, in a shared buffer. */
export function encodeOutputFrame(processId: string, seq: number, stream: OutputStream, bytes: Uint8Array): ByteFrame {
  const head = `{"method":"process/output","params":{"processId":${JSON.stringify(processId)},"seq":${seq},"stream":"${stream}","chunk":"`;
  return encodeBase64Frame(head, bytes, '"}}');
}

/** `head` + base64 of `bytes` + `tail` as one frame (head and tail are JSON text; base64 needs no escaping). */
export function encodeBase64Frame(head: string, bytes: Uint8Array, tail: string): ByteFrame {
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
  return { buf, start, end };
}

function bufferFor(size: number): Buffer {
  return size > SHARED_FRAME_BUFFER_MAX ? Buffer.allocUnsafeSlow(size) : frames.arena;
}

/** The frame's JSON text (tests, and transports without a byte path). */
export function byteFrameText(frame: ByteFrame): string {
  return Buffer.from(frame.buf.buffer, frame.buf.byteOffset + frame.start, frame.end - frame.start).toString("utf8");
}
