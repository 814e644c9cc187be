/** The reused-buffer frame encoder against protobufjs's plain encode, byte for byte. */
import { describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { FrameWriter } from "../../../src/remote/relay/frame-writer.ts";
import { dataFrame, decodeRelayFrame, encodeRelayFrame, handshakeFrame, resetFrame } from "../../../src/remote/relay/index.ts";

const UUID = "3f2c8a4e-9b1d-4c6e-8f0a-1d2e3f4a5b6c";
const HEADROOM = 16;

/** A record's pieces as the sealer returns them: ciphertext piece(s), then a 16-byte tag. */
function pieces(sizes: number[]): Uint8Array[] {
  return sizes.map((n) => Uint8Array.from(randomBytes(n)));
}

describe("FrameWriter", () => {
  // Lengths around every varint boundary of the payload and of the nested `data` message, up to a full record.
  const SIZES = [[0, 16], [1, 16], [110, 16], [111, 16], [112, 16], [16360, 16], [16361, 16], [4, 61436, 16], [65519, 16]];
  const SEQS = [0, 1, 127, 128, 2 ** 32 - 2];

  test("a record frame is byte for byte the plain encode of its data frame, and decodes to it", () => {
    const writer = new FrameWriter(HEADROOM);
    for (const sizes of SIZES) {
      for (const seq of SEQS) {
        const parts = pieces(sizes);
        const byteLength = parts.reduce((n, p) => n + p.byteLength, 0);
        const joined = Buffer.concat(parts);
        const out = writer.encode({ streamId: UUID, seq, parts, byteLength });
        expect(Buffer.from(out).equals(Buffer.from(encodeRelayFrame(dataFrame(UUID, seq, joined))))).toBe(true);
        expect(decodeRelayFrame(out).body).toEqual({ kind: "data", seq, segmentIndex: 0, segmentCount: 1, payload: new Uint8Array(joined) });
        expect(out.byteOffset).toBeGreaterThanOrEqual(HEADROOM);
      }
    }
  });

  test("other frames are the plain encode too, and one encode does not leak into the next", () => {
    const writer = new FrameWriter(HEADROOM);
    const big = writer.encode({ streamId: UUID, seq: 5, parts: pieces([60000, 16]), byteLength: 60016 });
    expect(big.byteLength).toBeGreaterThan(60000);
    for (const frame of [resetFrame(UUID), handshakeFrame(UUID, new Uint8Array(3424).fill(7)), dataFrame("s", 0, new Uint8Array([1]))]) {
      expect(Buffer.from(writer.encode(frame)).equals(Buffer.from(encodeRelayFrame(frame)))).toBe(true);
    }
  });

  test("a payload longer than any record is still encoded right (joined first)", () => {
    const parts = pieces([70000, 16]);
    const out = new FrameWriter(HEADROOM).encode({ streamId: UUID, seq: 3, parts, byteLength: 70016 });
    expect(Buffer.from(out).equals(Buffer.from(encodeRelayFrame(dataFrame(UUID, 3, Buffer.concat(parts)))))).toBe(true);
  });
});
