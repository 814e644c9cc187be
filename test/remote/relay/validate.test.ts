/** The executor's validation of inbound relay frames (remote.md §4 "Validation rules", §5.8, §6). */
import { expect, test } from "bun:test";
import { classifyInbound, encodeRelayFrame, type RelayBody, type RelayFrame, relayFrame } from "../../../src/remote/relay/index.ts";

const ID = "3f2c8a4e-9b1d-4c6e-8f0a-1d2e3f4a5b6c";
const data = (over: Partial<Extract<RelayBody, { kind: "data" }>> = {}): RelayBody => ({ kind: "data", seq: 3, segmentIndex: 0, segmentCount: 1, payload: new Uint8Array([1]), ...over });
const classify = (frame: RelayFrame) => classifyInbound(encodeRelayFrame(frame));

test.each([
  ["version 0 (omitted)", { ...relayFrame(ID, data()), version: 0 }, { action: "drop", why: "unsupported relay frame version 0" }],
  ["version 2", { ...relayFrame(ID, data()), version: 2 }, { action: "drop", why: "unsupported relay frame version 2" }],
  ["empty stream id", relayFrame("", data()), { action: "drop", why: "relay frame without a stream id" }],
  ["blank stream id", relayFrame("   ", data()), { action: "drop", why: "relay frame without a stream id" }],
  ["no body", { ...relayFrame(ID, data()), body: null }, { action: "drop", why: "relay frame without a body" }],
  ["reset with an empty reason", relayFrame(ID, { kind: "reset", reason: "" }), { action: "drop", why: "relay reset without a reason" }],
  ["data with an empty payload", relayFrame(ID, data({ payload: new Uint8Array(0) })), { action: "reset", streamId: ID, why: "relay data frame with an empty payload" }],
  ["data segment 1 of 2", relayFrame(ID, data({ segmentIndex: 1, segmentCount: 2 })), { action: "reset", streamId: ID, why: "segmented relay data is not supported (segment 1 of 2)" }],
  ["data segment_count 0", relayFrame(ID, data({ segmentCount: 0 })), { action: "reset", streamId: ID, why: "segmented relay data is not supported (segment 0 of 0)" }],
  ["handshake with an empty payload", relayFrame(ID, { kind: "handshake", payload: new Uint8Array(0) }), { action: "reset", streamId: ID, why: "relay handshake frame with an empty payload" }],
  ["ack_frame", relayFrame(ID, { kind: "ack" }), { action: "ignore", streamId: ID }],
  ["resume", relayFrame(ID, { kind: "resume", nextSeq: 4 }), { action: "ignore", streamId: ID }],
  ["heartbeat", relayFrame(ID, { kind: "heartbeat" }), { action: "ignore", streamId: ID }],
  ["reset with a reason", relayFrame(ID, { kind: "reset", reason: "harness gone" }), { action: "peer-reset", streamId: ID, reason: "harness gone" }],
  ["handshake", relayFrame(ID, { kind: "handshake", payload: new Uint8Array([5]) }), { action: "handshake", streamId: ID, payload: new Uint8Array([5]) }],
  ["data", relayFrame(ID, data()), { action: "data", streamId: ID, data: { seq: 3, payload: new Uint8Array([1]) } }],
  ["data with trace context", { ...relayFrame(ID, data()), traceparent: "00-a-b-01", tracestate: "k=v" }, { action: "data", streamId: ID, data: { seq: 3, payload: new Uint8Array([1]), traceparent: "00-a-b-01", tracestate: "k=v" } }],
] as [string, RelayFrame, unknown][])("%s", (_name, frame, expected) => {
  expect(classify(frame)).toEqual(expected as never);
});

test("an unknown body kind (field 13) has no body: dropped", () => {
  const bytes = Buffer.concat([encodeRelayFrame({ ...relayFrame(ID, data()), body: null }), Buffer.from([0x6a, 0x00])]);
  expect(classifyInbound(bytes)).toEqual({ action: "drop", why: "relay frame without a body" });
});

test("garbage bytes are dropped with the decoder's reason", () => {
  expect(classifyInbound(new Uint8Array([0xff, 0xff, 0xff]))).toEqual({ action: "drop", why: "invalid relay frame: index out of range: 3 + 1 > 3" });
  // A stream id claiming 36 bytes with 1 present.
  expect(classifyInbound(new Uint8Array([0x12, 0x24, 0x61]))).toEqual({ action: "drop", why: "invalid relay frame: index out of range: 2 + 36 > 3" });
  expect(classifyInbound(new Uint8Array(0))).toEqual({ action: "drop", why: "unsupported relay frame version 0" });
});
