/** The rendezvous socket's own framing: masked frames out, unmasked frames in (RFC 6455 §5.1). */
import { expect, test } from "bun:test";
import { maskedFrame } from "../../../src/remote/relay/ws-client.ts";
import { encodeFrame, type FrameEvent, FrameReader, Opcode } from "../../../src/transport/ws-frames.ts";

const read = (reader: FrameReader, bytes: Uint8Array) => {
  const events: FrameEvent[] = [];
  reader.push(bytes, (e) => events.push(e.kind === "message" ? { ...e, payload: e.payload.slice() } : e));
  return events;
};

test("client frames are masked and read back by the server-side reader", () => {
  const payload = new Uint8Array(70_000).map((_, i) => i & 0xff);
  const frame = maskedFrame(Opcode.binary, payload);
  expect([frame[0], frame[1]]).toEqual([0x82, 0x80 | 127]);
  expect(read(new FrameReader(1 << 20), frame)).toEqual([{ kind: "message", binary: true, payload }]);
});

test("masking by words covers every length: short, odd tails, 16- and 64-bit length headers", () => {
  for (const n of [0, 1, 2, 3, 4, 5, 7, 125, 126, 127, 65_535, 65_536, 65_539]) {
    const payload = new Uint8Array(n).map((_, i) => (i * 7 + 3) & 0xff);
    const frame = maskedFrame(Opcode.binary, payload);
    expect(frame[1]! & 0x80).toBe(0x80);
    expect(read(new FrameReader(1 << 20), frame)).toEqual([{ kind: "message", binary: true, payload }]);
  }
});

test("a client's reader takes unmasked server frames and refuses masked ones", () => {
  const payload = new Uint8Array([1, 2, 3]);
  expect(read(new FrameReader(1024, undefined, true), encodeFrame(Opcode.binary, payload))).toEqual([{ kind: "message", binary: true, payload }]);
  expect(read(new FrameReader(1024, undefined, true), maskedFrame(Opcode.binary, payload))).toEqual([
    { kind: "fail", code: 1002, reason: "server frames must not be masked" },
  ]);
  expect(read(new FrameReader(1024), encodeFrame(Opcode.binary, payload))).toEqual([{ kind: "fail", code: 1002, reason: "client frames must be masked" }]);
});
