/**
 * Frames built as bytes, never as a JS string: the `process/output`
 * notification, which is nearly all of the traffic while a process streams,
 * and the replies that carry file bytes (`fs/readBlock`, `fs/readFile`).
 * A string per chunk (its base64 plus the frame around it) lives until the
 * next collection, and at hundreds of MB/s that garbage, not the stream, set
 * the server's peak memory. Here the base64 is written straight into one
 * reused buffer, which the transport sends from.
 */
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

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
/** Two base64 symbols for every 12-bit value, as a little-endian 16-bit pair. */
const PAIRS = new Uint16Array(4096);
for (let i = 0; i < 4096; i++) PAIRS[i] = ALPHABET.charCodeAt(i >> 6) | (ALPHABET.charCodeAt(i & 63) << 8);
/** The 32-bit stores below assume little-endian memory (x64, arm64); elsewhere bytes are written one by one. */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * The shared buffer grows to fit the biggest frame up to this (a 1 MiB
 * `fs/readBlock` reply is ~1.4 MiB); anything larger (a big `fs/readFile`)
 * gets a buffer of its own, freed with the frame, so one large reply does not
 * pin its size for the life of the server.
 */
export const SHARED_FRAME_BUFFER_MAX = 2 * 1024 * 1024;

let scratch = Buffer.allocUnsafeSlow(0);
let words = new Uint32Array(0);

/** `{"method":"process/output","params":{…,"chunk":"<base64>"}}` for `bytes`, in a shared buffer. */
export function encodeOutputFrame(processId: string, seq: number, stream: OutputStream, bytes: Uint8Array): ByteFrame {
  const head = `{"method":"process/output","params":{"processId":${JSON.stringify(processId)},"seq":${seq},"stream":"${stream}","chunk":"`;
  return encodeBase64Frame(head, bytes, '"}}');
}

/** `head` + base64 of `bytes` + `tail` as one frame (head and tail are JSON text; base64 needs no escaping). */
export function encodeBase64Frame(head: string, bytes: Uint8Array, tail: string): ByteFrame {
  const headBytes = Buffer.byteLength(head);
  const base64Bytes = Math.ceil(bytes.byteLength / 3) * 4;
  // The base64 starts 4-aligned so it can be stored a word at a time.
  const base64Start = (FRAME_HEADROOM + headBytes + 3) & ~3;
  const tailAt = base64Start + base64Bytes;
  const end = tailAt + Buffer.byteLength(tail);
  const out = bufferFor(end + 1);
  const start = base64Start - headBytes;
  out.buf.write(head, start, "utf8");
  writeBase64(bytes, out.buf, out.words, base64Start);
  out.buf.write(tail, tailAt, "utf8");
  return { buf: out.buf, start, end };
}

function bufferFor(size: number): { buf: Buffer; words: Uint32Array } {
  if (size > SHARED_FRAME_BUFFER_MAX) {
    const buf = Buffer.allocUnsafeSlow(size);
    return { buf, words: new Uint32Array(buf.buffer, buf.byteOffset, buf.byteLength >> 2) };
  }
  if (scratch.byteLength < size) {
    scratch = Buffer.allocUnsafeSlow(Math.min(SHARED_FRAME_BUFFER_MAX, Math.max(size, 2 * scratch.byteLength, 128 * 1024)));
    words = new Uint32Array(scratch.buffer, scratch.byteOffset, scratch.byteLength >> 2);
  }
  return { buf: scratch, words };
}

function writeBase64(bytes: Uint8Array, out: Uint8Array, outWords: Uint32Array, at: number): void {
  const n = bytes.byteLength;
  const whole = n - (n % 3);
  let i = 0;
  if (LITTLE_ENDIAN) {
    let w = at >> 2;
    for (; i < whole; i += 3) {
      const v = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
      outWords[w++] = PAIRS[v >>> 12]! | (PAIRS[v & 4095]! << 16);
    }
    at = w << 2;
  } else {
    for (; i < whole; i += 3) {
      const v = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
      out[at++] = ALPHABET.charCodeAt(v >>> 18);
      out[at++] = ALPHABET.charCodeAt((v >>> 12) & 63);
      out[at++] = ALPHABET.charCodeAt((v >>> 6) & 63);
      out[at++] = ALPHABET.charCodeAt(v & 63);
    }
  }
  const rest = n - whole;
  if (rest === 0) return;
  const v = (bytes[whole]! << 16) | (rest === 2 ? bytes[whole + 1]! << 8 : 0);
  out[at++] = ALPHABET.charCodeAt(v >>> 18);
  out[at++] = ALPHABET.charCodeAt((v >>> 12) & 63);
  out[at++] = rest === 2 ? ALPHABET.charCodeAt((v >>> 6) & 63) : 61; // '='
  out[at] = 61;
}

/** The frame's JSON text (tests, and transports without a byte path). */
export function byteFrameText(frame: ByteFrame): string {
  return Buffer.from(frame.buf.buffer, frame.buf.byteOffset + frame.start, frame.end - frame.start).toString("utf8");
}
