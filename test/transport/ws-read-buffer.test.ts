/**
 * The WebSocket frame reader's kept buffer (RETAINED_READ_BUFFER_BYTES): a
 * buffer grown for a large frame is reused for the next frames and given back
 * by `shrink`; neither may lose, repeat or mix bytes of frames split across
 * reads at any boundary.
 */
import { expect, test } from "bun:test";
import { maskedFrame } from "../../src/remote/relay/ws-client.ts";
import { FrameReader, Opcode, RETAINED_READ_BUFFER_BYTES, closePayload } from "../../src/transport/ws-frames.ts";

const message = (n: number, seed: number) => new Uint8Array(n).map((_, i) => (i * 31 + seed) & 0xff);

/** Pushes `stream` in pieces of `piece` bytes (shrinking after each when asked); returns every message's bytes, copied in the callback. */
function readAll(reader: FrameReader, stream: Uint8Array, piece: number, shrinkEach = false): Uint8Array[] {
  const got: Uint8Array[] = [];
  for (let off = 0; off < stream.byteLength; off += piece) {
    reader.push(stream.subarray(off, off + piece), (e) => {
      if (e.kind !== "message") throw new Error(`unexpected ${e.kind}`);
      got.push(e.payload.slice());
    });
    if (shrinkEach) reader.shrink();
  }
  return got;
}

test("after a large frame, small and large frames split at odd boundaries read back exactly, with the buffer kept or given back", () => {
  const sizes = [700 * 1024, 3, 200_000, RETAINED_READ_BUFFER_BYTES - 14, 1, 65_536, 900_000, 10];
  const messages = sizes.map((n, i) => message(n, i));
  const stream = Buffer.concat(messages.map((m) => maskedFrame(Opcode.binary, m)));
  for (const piece of [1_000_003, 65_537, 7_919]) {
    for (const shrinkEach of [false, true]) {
      const got = readAll(new FrameReader(16 << 20), stream, piece, shrinkEach);
      expect(got.map((m) => m.byteLength)).toEqual(sizes);
      expect(got.every((m, i) => Buffer.from(m).equals(Buffer.from(messages[i]!)))).toBe(true);
    }
  }
});

test("a close reason too long for a control frame is cut to 123 bytes at a character boundary", () => {
  const reason = "é".repeat(70); // 140 bytes, 2 per character
  const payload = closePayload(1008, reason);
  expect(payload.byteLength).toBe(2 + 122);
  expect([payload[0], payload[1]]).toEqual([1008 >> 8, 1008 & 0xff]);
  expect(new TextDecoder("utf-8", { fatal: true }).decode(payload.subarray(2))).toBe("é".repeat(61));
  expect(closePayload(1000, "x".repeat(200)).byteLength).toBe(125);
});
