/** Stream demultiplexing by stream_id with 0.169.0's lifecycle rules (remote.md §5.8), on an in-memory sink. */
import { describe, expect, test } from "bun:test";
import {
  classifyInbound,
  dataFrame,
  encodeRelayFrame,
  handshakeFrame,
  RELAY_MAX_ACTIVE_STREAMS,
  RELAY_MAX_HANDSHAKE_FAILURES,
  RELAY_MAX_PENDING_STREAMS,
  RELAY_MAX_QUEUED_HANDSHAKES,
  type RelayFrame,
  type RelayStream,
  resetFrame,
  StreamTable,
} from "../../../src/remote/relay/index.ts";
import { RecordingHandler } from "./harness.ts";

/** A sink that takes every frame at once and records drops. */
class MemorySink {
  readonly sent: RelayFrame[] = [];
  readonly drops: string[] = [];
  readonly logs: string[] = [];
  trySend = (frame: RelayFrame) => (this.sent.push(frame), true);
  send = async (frame: RelayFrame, _stream: RelayStream) => void this.sent.push(frame);
  drop = (why: string) => void this.drops.push(why);
  forget = (_stream: RelayStream) => {};
  log = (line: string) => void this.logs.push(line);
}

const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;
const MSG1 = new Uint8Array([1, 1, 1]);
const MSG2 = new Uint8Array([2, 2]);

function setup(autoAccept: Uint8Array | null = MSG2) {
  const sink = new MemorySink();
  const handler = new RecordingHandler(autoAccept);
  const table = new StreamTable(handler, sink);
  const feed = (frame: RelayFrame) => table.handle(classifyInbound(encodeRelayFrame(frame)));
  return { sink, handler, table, feed };
}

describe("lifecycle", () => {
  test("handshake opens a pending stream; the handler's reply and activation make it active; data reaches it", async () => {
    const { sink, handler, table, feed } = setup();
    feed(handshakeFrame(id(1), MSG1));
    expect(handler.opened.map((o) => [o.stream.id, o.message1])).toEqual([[id(1), MSG1]]);
    expect(sink.sent).toEqual([handshakeFrame(id(1), MSG2)]);
    expect(table.counts()).toEqual({ pending: 0, active: 1 });
    feed(dataFrame(id(1), 0, new Uint8Array([9])));
    expect(handler.data).toEqual([{ id: id(1), data: { seq: 0, payload: new Uint8Array([9]) } }]);
    await handler.streams.get(id(1))!.sendData(0, new Uint8Array([7]));
    expect(sink.sent.at(-1)).toEqual(dataFrame(id(1), 0, new Uint8Array([7])));
  });

  test("a reset from the harness removes the stream without a reply", () => {
    const { sink, handler, table, feed } = setup();
    feed(handshakeFrame(id(1), MSG1));
    feed(resetFrame(id(1), "bye"));
    expect(handler.closed).toEqual([{ id: id(1), why: "reset by the harness" }]);
    expect(sink.sent).toEqual([handshakeFrame(id(1), MSG2)]);
    expect(table.counts()).toEqual({ pending: 0, active: 0 });
  });

  test("a reset with an empty reason is dropped: the stream stays", () => {
    const { handler, table, feed } = setup();
    feed(handshakeFrame(id(1), MSG1));
    feed(resetFrame(id(1), ""));
    expect(handler.closed).toEqual([]);
    expect(table.counts()).toEqual({ pending: 0, active: 1 });
  });

  test("handshake for an active stream: reset, no failure counted", () => {
    const { sink, handler, feed } = setup();
    feed(handshakeFrame(id(1), MSG1));
    feed(handshakeFrame(id(1), MSG1));
    expect(handler.closed).toEqual([{ id: id(1), why: "handshake for an already active stream" }]);
    expect(sink.sent.at(-1)).toEqual(resetFrame(id(1)));
  });

  test("handshake for a pending stream cancels it and resets; data for a pending or unknown stream resets", () => {
    const { sink, handler, feed } = setup(null);
    feed(handshakeFrame(id(1), MSG1));
    feed(handshakeFrame(id(1), MSG1));
    feed(handshakeFrame(id(2), MSG1));
    feed(dataFrame(id(2), 0, new Uint8Array([1])));
    feed(dataFrame(id(3), 0, new Uint8Array([1])));
    expect(handler.closed).toEqual([
      { id: id(1), why: "handshake while the stream's handshake is pending" },
      { id: id(2), why: "relay data before the handshake completed" },
    ]);
    expect(sink.sent).toEqual([resetFrame(id(1)), resetFrame(id(2)), resetFrame(id(3))]);
  });

  test("invalid frames for a stream reset it; the stream's own reset sends noise_relay_protocol_error", () => {
    const { sink, handler, feed } = setup();
    feed(handshakeFrame(id(1), MSG1));
    feed({ ...dataFrame(id(1), 0, new Uint8Array([1])), body: { kind: "data", seq: 0, segmentIndex: 0, segmentCount: 2, payload: new Uint8Array([1]) } });
    feed(handshakeFrame(id(2), new Uint8Array(0)));
    expect(handler.closed).toEqual([{ id: id(1), why: "segmented relay data is not supported (segment 0 of 2)" }]);
    expect(sink.sent.slice(1)).toEqual([resetFrame(id(1)), resetFrame(id(2))]);
    expect(encodeRelayFrame(sink.sent[1]!)).toEqual(encodeRelayFrame(resetFrame(id(1), "noise_relay_protocol_error")));
  });

  test("a stream object is its identity: after reuse of the id, the old object's calls do nothing", () => {
    const { sink, handler, table, feed } = setup(null);
    feed(handshakeFrame(id(1), MSG1));
    const old = handler.opened[0]!.stream;
    feed(resetFrame(id(1), "gone"));
    feed(handshakeFrame(id(1), MSG1));
    expect(old.activate()).toBe(false);
    expect(old.sendHandshake(MSG2)).toBe(false);
    old.reset("late validation failure");
    expect(table.counts()).toEqual({ pending: 1, active: 0 });
    expect(sink.sent).toEqual([]);
  });

  test("closeAll ends every stream, and sending on them is refused", async () => {
    const { handler, table, feed } = setup();
    feed(handshakeFrame(id(1), MSG1));
    feed(handshakeFrame(id(2), MSG1));
    table.closeAll("relay connection closed: test");
    expect(handler.closed.map((c) => c.why)).toEqual(["relay connection closed: test", "relay connection closed: test"]);
    await expect(handler.streams.get(id(1))!.sendData(0, MSG1)).rejects.toThrow(`relay stream ${id(1)} is closed`);
  });
});

describe("limits", () => {
  test(`the ${RELAY_MAX_ACTIVE_STREAMS + 1}th active stream is reset`, () => {
    const { sink, handler, feed } = setup();
    for (let n = 0; n <= RELAY_MAX_ACTIVE_STREAMS; n++) feed(handshakeFrame(id(n), MSG1));
    expect(handler.opened.length).toBe(RELAY_MAX_ACTIVE_STREAMS);
    expect(sink.sent.at(-1)).toEqual(resetFrame(id(RELAY_MAX_ACTIVE_STREAMS)));
    expect(sink.logs.at(-1)).toBe(`relay stream ${id(RELAY_MAX_ACTIVE_STREAMS)} reset: Noise relay has too many active streams`);
  });

  test(`handshakes beyond ${RELAY_MAX_PENDING_STREAMS} pending validations wait for a slot; beyond ${RELAY_MAX_QUEUED_HANDSHAKES} waiting, one more is reset`, () => {
    const { sink, handler, table, feed } = setup(null);
    const total = RELAY_MAX_PENDING_STREAMS + RELAY_MAX_QUEUED_HANDSHAKES;
    for (let n = 0; n <= total; n++) feed(handshakeFrame(id(n), MSG1));
    expect(handler.opened.length).toBe(RELAY_MAX_PENDING_STREAMS);
    expect(sink.sent).toEqual([resetFrame(id(total))]);
    expect(sink.logs).toEqual([`relay stream ${id(total)} reset: Noise relay has too many pending handshakes`]);
    expect(table.counts()).toEqual({ pending: total, active: 0 });
    // Each validation that ends (accepted or failed) starts the oldest waiting handshake.
    const [first, second] = handler.opened;
    expect(first!.stream.sendHandshake(MSG2) && first!.stream.activate()).toBe(true);
    second!.stream.fail("not authorized");
    expect(handler.opened.slice(RELAY_MAX_PENDING_STREAMS).map((o) => o.stream.id)).toEqual([id(RELAY_MAX_PENDING_STREAMS), id(RELAY_MAX_PENDING_STREAMS + 1)]);
    expect(handler.opened[RELAY_MAX_PENDING_STREAMS]!.message1).toEqual(MSG1);
  });

  test("a waiting handshake reset by the harness leaves the queue without reaching the handler", () => {
    const { handler, table, feed } = setup(null);
    for (let n = 0; n <= RELAY_MAX_PENDING_STREAMS; n++) feed(handshakeFrame(id(n), MSG1));
    feed(resetFrame(id(RELAY_MAX_PENDING_STREAMS), "harness gone"));
    expect(table.counts()).toEqual({ pending: RELAY_MAX_PENDING_STREAMS, active: 0 });
    handler.opened[0]!.stream.fail("not authorized");
    expect(handler.opened.length).toBe(RELAY_MAX_PENDING_STREAMS);
    expect(handler.closed.map((c) => c.id)).toEqual([id(0)]);
  });

  test(`${RELAY_MAX_HANDSHAKE_FAILURES} handshake failures drop the connection`, () => {
    const { sink, handler, feed } = setup(null);
    for (let n = 0; n < RELAY_MAX_HANDSHAKE_FAILURES - 1; n++) {
      feed(handshakeFrame(id(n), MSG1));
      handler.opened.at(-1)!.stream.fail("bad message 1");
    }
    expect(sink.drops).toEqual([]);
    feed(handshakeFrame(id(99), new Uint8Array(0))); // A malformed message 1 counts too.
    expect(sink.drops).toEqual([`${RELAY_MAX_HANDSHAKE_FAILURES} handshake failures on this relay connection`]);
  });

  test("a handshake reply that cannot be queued at once drops the connection", () => {
    const { sink, handler, feed } = setup(null);
    sink.trySend = () => false;
    feed(handshakeFrame(id(1), MSG1));
    expect(handler.opened[0]!.stream.sendHandshake(MSG2)).toBe(false);
    expect(sink.drops).toEqual(["a handshake reply could not be queued at once"]);
  });
});
