/** Unmasking a client frame word-wise gives the bytes the byte-wise definition (RFC 6455 §5.3) gives, at every alignment and length. */
import { expect, test } from "bun:test";
import { unmask } from "../../src/transport/ws-frames.ts";

test("unmask matches the byte-wise XOR for lengths 0–69 at offsets 0–6, leaving the bytes around untouched", () => {
  const mask = new Uint8Array([0x12, 0x34, 0x56, 0x78]);
  for (let offset = 0; offset < 7; offset++) {
    for (let length = 0; length < 70; length++) {
      const buf = new Uint8Array(offset + length + 3).map((_, i) => (i * 37 + 11) & 0xff);
      const expected = buf.slice();
      for (let i = 0; i < length; i++) expected[offset + i]! ^= mask[i & 3]!;
      unmask(buf.subarray(offset, offset + length), mask);
      expect([offset, length, Buffer.from(buf).toString("hex")]).toEqual([offset, length, Buffer.from(expected).toString("hex")]);
    }
  }
});
