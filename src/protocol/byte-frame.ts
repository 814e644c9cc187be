/**
 * Frames built as bytes, never as a JS string: the `process/output`
 * notification, which is nearly all of the traffic while a process streams.
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

const SUFFIX = '"}}';

let scratch = Buffer.allocUnsafeSlow(0);
let words = new Uint32Array(0);

/** `{"method":"process/output","params":{…,"chunk":"<base64>"}}` for `bytes`, in a shared buffer. */
export function encodeOutputFrame(processId: string, seq: number, stream: OutputStream, bytes: Uint8Array): ByteFrame {
  const prefix = `{"method":"process/output","params":{"processId":${JSON.stringify(processId)},"seq":${seq},"stream":"${stream}","chunk":"`;
  const prefixBytes = Buffer.byteLength(prefix);
  const base64Bytes = Math.ceil(bytes.byteLength / 3) * 4;
  // The base64 starts 4-aligned so it can be stored a word at a time.
  const base64Start = (FRAME_HEADROOM + prefixBytes + 3) & ~3;
  const end = base64Start + base64Bytes + SUFFIX.length;
  ensureScratch(end + 1);
  const start = base64Start - prefixBytes;
  scratch.write(prefix, start, "utf8");
  writeBase64(bytes, base64Start);
  scratch.write(SUFFIX, end - SUFFIX.length, "latin1");
  return { buf: scratch, start, end };
}

function ensureScratch(size: number): void {
  if (scratch.byteLength >= size) return;
  scratch = Buffer.allocUnsafeSlow(Math.max(size, 2 * scratch.byteLength, 128 * 1024));
  words = new Uint32Array(scratch.buffer, scratch.byteOffset, scratch.byteLength >> 2);
}

function writeBase64(bytes: Uint8Array, at: number): void {
  const n = bytes.byteLength;
  const whole = n - (n % 3);
  let i = 0;
  if (LITTLE_ENDIAN) {
    let w = at >> 2;
    for (; i < whole; i += 3) {
      const v = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
      words[w++] = PAIRS[v >>> 12]! | (PAIRS[v & 4095]! << 16);
    }
    at = w << 2;
  } else {
    for (; i < whole; i += 3) {
      const v = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
      scratch[at++] = ALPHABET.charCodeAt(v >>> 18);
      scratch[at++] = ALPHABET.charCodeAt((v >>> 12) & 63);
      scratch[at++] = ALPHABET.charCodeAt((v >>> 6) & 63);
      scratch[at++] = ALPHABET.charCodeAt(v & 63);
    }
  }
  const rest = n - whole;
  if (rest === 0) return;
  const v = (bytes[whole]! << 16) | (rest === 2 ? bytes[whole + 1]! << 8 : 0);
  scratch[at++] = ALPHABET.charCodeAt(v >>> 18);
  scratch[at++] = ALPHABET.charCodeAt((v >>> 12) & 63);
  scratch[at++] = rest === 2 ? ALPHABET.charCodeAt((v >>> 6) & 63) : 61; // '='
  scratch[at] = 61;
}

/** The frame's JSON text (tests, and transports without a byte path). */
export function byteFrameText(frame: ByteFrame): string {
  return Buffer.from(frame.buf.buffer, frame.buf.byteOffset + frame.start, frame.end - frame.start).toString("utf8");
}
