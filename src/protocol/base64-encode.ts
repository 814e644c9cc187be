/**
 * Base64 (standard alphabet, padded) written straight into a byte buffer, with
 * no JS string on the way. Nearly all of a streaming server's CPU beyond the
 * syscalls is this encoding, so it runs in a small WebAssembly SIMD module
 * (see `wasm/base64-wat.ts`). Measured here on 64 KiB chunks, 256 MiB take:
 * ~57 ms in WebAssembly (input copy included), ~180 ms in the best plain JS
 * loop, ~230 ms through `Buffer#toString`; `Uint8Array#toBase64` is faster
 * still, but the string it returns is garbage, and at hundreds of MB/s that
 * garbage raised the server's peak RSS by ~25 MiB.
 *
 * The module's memory holds an input area and, after it, the shared frame
 * buffer (`frameArena`), so a frame built there gets its base64 in place.
 * Anything else is encoded in the frame area and copied out. Where
 * WebAssembly SIMD is missing, a plain JS loop does the same.
 */
import { BASE64_WASM } from "./wasm/base64-wasm.ts";
import { BLOCK_BYTES } from "./wasm/base64-wat.ts";

/** Input bytes per call into the module: a whole number of blocks, 1 MiB of base64. */
export const ENCODE_PIECE_BYTES = 16384 * BLOCK_BYTES;
/** The frame area starts past the input area and the 4 bytes a step reads beyond its input (kept 64-aligned). */
const FRAME_AT = ENCODE_PIECE_BYTES + 64;
const WASM_PAGE = 65536;

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const PAD = 61; // '='

type Simd = { memory: Uint8Array; encode(src: number, n: number, dst: number): void };

/**
 * A Buffer of `size` bytes, the same one on every call (the frame area of the
 * module's memory when it is available). Only touched pages cost memory.
 */
export function createFrameArena(size: number): { arena: Buffer; write(bytes: Uint8Array, out: Buffer, at: number): void } {
  const simd = instantiate(FRAME_AT + size);
  if (!simd) return { arena: Buffer.allocUnsafeSlow(size), write: writeBase64Scalar };
  const arena = Buffer.from(simd.memory.buffer, FRAME_AT, size);
  return {
    arena,
    write(bytes, out, at) {
      for (let off = 0; off < bytes.byteLength; off += ENCODE_PIECE_BYTES) {
        const piece = bytes.subarray(off, Math.min(off + ENCODE_PIECE_BYTES, bytes.byteLength));
        const whole = piece.byteLength - (piece.byteLength % BLOCK_BYTES);
        const outAt = at + (off / 3) * 4;
        simd.memory.set(piece.subarray(0, whole), 0);
        if (out === arena) {
          simd.encode(0, whole, FRAME_AT + outAt);
        } else {
          // The arena is free while a frame of its own buffer is built: stage there.
          simd.encode(0, whole, FRAME_AT);
          out.set(arena.subarray(0, (whole / 3) * 4), outAt);
        }
        writeBase64Scalar(piece.subarray(whole), out, outAt + (whole / 3) * 4);
      }
    },
  };
}

function instantiate(bytes: number): Simd | null {
  try {
    const pages = Math.ceil(bytes / WASM_PAGE);
    const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
    const module = new WebAssembly.Module(Buffer.from(BASE64_WASM, "base64"));
    const { encode } = new WebAssembly.Instance(module, { env: { memory } }).exports as { encode: Simd["encode"] };
    return { memory: new Uint8Array(memory.buffer), encode };
  } catch {
    return null; // No WebAssembly SIMD here: the JS loop encodes.
  }
}

/** Plain JS: the last bytes of a piece, and everything where WebAssembly SIMD is missing. */
export function writeBase64Scalar(bytes: Uint8Array, out: Uint8Array, at: number): void {
  const n = bytes.byteLength;
  const whole = n - (n % 3);
  for (let i = 0; i < whole; i += 3) {
    const v = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out[at++] = ALPHABET.charCodeAt(v >>> 18);
    out[at++] = ALPHABET.charCodeAt((v >>> 12) & 63);
    out[at++] = ALPHABET.charCodeAt((v >>> 6) & 63);
    out[at++] = ALPHABET.charCodeAt(v & 63);
  }
  const rest = n - whole;
  if (rest === 0) return;
  const v = (bytes[whole]! << 16) | (rest === 2 ? bytes[whole + 1]! << 8 : 0);
  out[at++] = ALPHABET.charCodeAt(v >>> 18);
  out[at++] = ALPHABET.charCodeAt((v >>> 12) & 63);
  out[at++] = rest === 2 ? ALPHABET.charCodeAt((v >>> 6) & 63) : PAD;
  out[at] = PAD;
}
