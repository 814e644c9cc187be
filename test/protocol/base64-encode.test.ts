/** The base64 encoder of byte frames: WebAssembly SIMD, its JS fallback, and the module's source. */
import { describe, expect, test } from "bun:test";
import { ENCODE_PIECE_BYTES, createFrameArena, writeBase64Scalar } from "../../src/protocol/base64-encode.ts";
import { BASE64_WASM } from "../../src/protocol/wasm/base64-wasm.ts";
import { BLOCK_BYTES } from "../../src/protocol/wasm/base64-wat.ts";
import { assembleBase64Wasm } from "../../src/protocol/wasm/assemble.ts";

function pattern(size: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    bytes[i] = x >>> 24;
  }
  return bytes;
}

const ARENA_BYTES = 2 * 1024 * 1024;
// Every remainder of a block, and the edges of the pieces the module is called with.
const SIZES = [
  ...Array.from({ length: 2 * BLOCK_BYTES + 3 }, (_, i) => i),
  65536,
  ENCODE_PIECE_BYTES - 1,
  ENCODE_PIECE_BYTES,
  ENCODE_PIECE_BYTES + 1,
  ENCODE_PIECE_BYTES + BLOCK_BYTES + 2,
];

describe("base64 into a byte buffer", () => {
  const frames = createFrameArena(ARENA_BYTES);

  test("the WebAssembly SIMD module is in use here", () => {
    expect(WebAssembly.validate(Buffer.from(BASE64_WASM, "base64"))).toBe(true);
    // A view on the module's memory, not a Buffer of its own.
    expect(frames.arena.buffer.byteLength).toBeGreaterThan(ARENA_BYTES);
  });

  test("in the arena, at any offset, every size encodes exactly as Buffer does", () => {
    for (const size of SIZES.filter((s) => (s / 3) * 4 + 64 < ARENA_BYTES)) {
      const bytes = pattern(size, size);
      const at = 7 + (size % 5);
      frames.arena.fill(0x21, at - 1, at + Math.ceil(size / 3) * 4 + 1);
      frames.write(bytes, frames.arena, at);
      const expected = Buffer.from(bytes).toString("base64");
      expect(frames.arena.toString("latin1", at, at + expected.length)).toBe(expected);
      // Nothing written outside the symbols.
      expect(frames.arena[at - 1]).toBe(0x21);
      expect(frames.arena[at + expected.length]).toBe(0x21);
    }
  });

  test("into a buffer of its own (bigger than the arena), staged piece by piece", () => {
    const bytes = pattern(3 * ENCODE_PIECE_BYTES + 5, 42);
    const expected = Buffer.from(bytes).toString("base64");
    const out = Buffer.alloc(expected.length + 20, 0x21);
    frames.write(bytes, out, 10);
    expect(out.toString("latin1", 10, 10 + expected.length)).toBe(expected);
    expect(out[9]).toBe(0x21);
    expect(out[10 + expected.length]).toBe(0x21);
  });

  test("the JS fallback agrees", () => {
    for (const size of SIZES.slice(0, 2 * BLOCK_BYTES + 3)) {
      const bytes = pattern(size, 7 * size);
      const out = Buffer.alloc(Math.ceil(size / 3) * 4);
      writeBase64Scalar(bytes, out, 0);
      expect(out.toString("latin1")).toBe(Buffer.from(bytes).toString("base64"));
    }
  });

  test.skipIf(!Bun.which("wat2wasm"))("base64-wasm.ts is what base64-wat.ts assembles to (`bun run wasm`)", () => {
    expect(Buffer.from(assembleBase64Wasm()!).toString("base64")).toBe(BASE64_WASM);
  });
});
