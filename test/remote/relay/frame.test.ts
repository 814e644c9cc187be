/** Relay frames byte for byte as 0.169.0 puts them on the wire (remote.md §4 "Byte shapes seen on the wire"). */
import { describe, expect, test } from "bun:test";
import { descriptorFromProto } from "../../../src/remote/relay/gen-descriptor.ts";
import {
  dataFrame,
  decodeRelayFrame,
  encodeRelayFrame,
  handshakeFrame,
  RELAY_RESET_REASON,
  RelayDecodeError,
  relayFrame,
  type RelayDataBody,
  resetFrame,
  resumeFrame,
} from "../../../src/remote/relay/index.ts";

const UUID = "3f2c8a4e-9b1d-4c6e-8f0a-1d2e3f4a5b6c";
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const uuidHex = Buffer.from(UUID).toString("hex");
/** `08 01 12 24 <uuid36>`: version 1 and the stream id, the head of every frame. */
const HEAD = `0801` + `1224` + uuidHex;

describe("byte shapes", () => {
  test("resume (harness): 08 01 12 24 <uuid> 3a 00", () => {
    const bytes = encodeRelayFrame(resumeFrame(UUID));
    expect(hex(bytes)).toBe(`${HEAD}3a00`);
    expect(decodeRelayFrame(bytes)).toEqual({ version: 1, streamId: UUID, ack: 0, ackBits: 0, body: { kind: "resume", nextSeq: 0 } });
  });

  test("reset (executor): 42 1c 0a 1a noise_relay_protocol_error", () => {
    const bytes = encodeRelayFrame(resetFrame(UUID));
    expect(hex(bytes)).toBe(`${HEAD}421c0a1a${Buffer.from("noise_relay_protocol_error").toString("hex")}`);
    expect(decodeRelayFrame(bytes).body).toEqual({ kind: "reset", reason: RELAY_RESET_REASON });
  });

  test("data seq 0: seq and segment_index omitted, segment_count 1 present", () => {
    const ct = new Uint8Array(17).fill(0xab);
    const bytes = encodeRelayFrame(dataFrame(UUID, 0, ct));
    expect(hex(bytes)).toBe(`${HEAD}2a15180122 11${hex(ct)}`.replace(" ", ""));
    expect(decodeRelayFrame(bytes).body).toEqual({ kind: "data", seq: 0, segmentIndex: 0, segmentCount: 1, payload: ct });
  });

  test("data seq n > 0: 2a <len> 08 <n> 18 01 22 …", () => {
    const ct = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
    const bytes = encodeRelayFrame(dataFrame(UUID, 7, ct));
    expect(hex(bytes)).toBe(`${HEAD}2a16080718012210${hex(ct)}`);
    expect(decodeRelayFrame(bytes).body).toEqual({ kind: "data", seq: 7, segmentIndex: 0, segmentCount: 1, payload: ct });
  });

  test("handshake: 52 <len> 0a <len> <noise msg>, with multi-byte lengths for a 3424-byte message 2", () => {
    const small = encodeRelayFrame(handshakeFrame(UUID, new Uint8Array([0xde, 0xad])));
    expect(hex(small)).toBe(`${HEAD}52040a02dead`);
    const msg2 = new Uint8Array(3424).fill(7);
    const big = encodeRelayFrame(handshakeFrame(UUID, msg2));
    expect(hex(big.subarray(0, 46))).toBe(`${HEAD}52e31a0ae01a`);
    expect(big.byteLength).toBe(40 + 6 + 3424);
    expect(decodeRelayFrame(big).body).toEqual({ kind: "handshake", payload: msg2 });
  });

  test("traceparent and tracestate are fields 11 and 12, after the body", () => {
    const frame = { ...dataFrame(UUID, 1, new Uint8Array([9])), traceparent: "tp", tracestate: "ts" };
    const bytes = encodeRelayFrame(frame);
    expect(hex(bytes)).toBe(`${HEAD}2a0708011801220109` + `5a02${Buffer.from("tp").toString("hex")}` + `6202${Buffer.from("ts").toString("hex")}`);
    expect(decodeRelayFrame(bytes)).toEqual(frame);
  });

  test("empty bodies are an empty nested message: ack_frame 32 00, heartbeat 4a 00", () => {
    expect(hex(encodeRelayFrame(relayFrame(UUID, { kind: "ack" })))).toBe(`${HEAD}3200`);
    expect(hex(encodeRelayFrame(relayFrame(UUID, { kind: "heartbeat" })))).toBe(`${HEAD}4a00`);
  });
});

describe("decoding", () => {
  test("explicit zero values read as omitted ones", () => {
    // seq 0, segment_index 0 written out; ack 0, ack_bits 0 written out.
    const explicit = Buffer.from(`${HEAD}18002000` + `2a0a080010001801220201ff`, "hex");
    expect(decodeRelayFrame(explicit)).toEqual({
      version: 1, streamId: UUID, ack: 0, ackBits: 0, body: { kind: "data", seq: 0, segmentIndex: 0, segmentCount: 1, payload: new Uint8Array([1, 0xff]) },
    });
  });

  test("a frame without a body decodes with body null", () => {
    expect(decodeRelayFrame(Buffer.from(HEAD, "hex")).body).toBeNull();
  });

  test("with two oneof members on the wire the last one wins, as in prost", () => {
    expect(decodeRelayFrame(Buffer.from(`${HEAD}3a004a00`, "hex")).body).toEqual({ kind: "heartbeat" });
    expect(decodeRelayFrame(Buffer.from(`${HEAD}4a003a00`, "hex")).body).toEqual({ kind: "resume", nextSeq: 0 });
  });

  test("an unknown field (a body kind from a later version) is skipped: no body", () => {
    expect(decodeRelayFrame(Buffer.from(`${HEAD}6a00`, "hex")).body).toBeNull();
  });

  test("a handshake payload is a copy (it outlives the decoded buffer); a data payload is lent, a view of it", () => {
    const buf = Buffer.from(encodeRelayFrame(handshakeFrame(UUID, new Uint8Array([1, 2, 3]))));
    const frame = decodeRelayFrame(buf);
    buf.fill(0);
    expect(frame.body).toEqual({ kind: "handshake", payload: new Uint8Array([1, 2, 3]) });
    const data = Buffer.from(encodeRelayFrame(dataFrame(UUID, 7, new Uint8Array([4, 5, 6]))));
    const lent = decodeRelayFrame(data).body as RelayDataBody;
    expect(lent.payload).toEqual(new Uint8Array([4, 5, 6]));
    data.fill(9);
    expect(lent.payload).toEqual(new Uint8Array([9, 9, 9]));
  });

  test("garbage is a RelayDecodeError", () => {
    for (const garbage of [[0xff, 0xff, 0xff], [0x12, 0x24, 0x61], [0x0f], [0x2a, 0x05, 0x22, 0x09]]) {
      expect(() => decodeRelayFrame(new Uint8Array(garbage))).toThrow(RelayDecodeError);
    }
  });
});

test("relay.descriptor.json is what relay.proto compiles to (run gen-descriptor.ts after editing the .proto)", async () => {
  const stored = await Bun.file(new URL("../../../src/remote/relay/relay.descriptor.json", import.meta.url).pathname).text();
  expect(stored).toBe(descriptorFromProto());
});
