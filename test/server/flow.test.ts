import { describe, expect, test } from "bun:test";
import { CHECK_LENT_FRAMES, byteFrameText, encodeBase64Frame } from "../../src/protocol/byte-frame.ts";
import {
  ANSWER_BACKLOG_BYTES,
  ConnectionFlow,
  type ConnectionTransport,
  type Frame,
  type KeptFrame,
  OUTBOX_HIGH_WATER_BYTES,
  type SendResult,
} from "../../src/server/flow.ts";

/** A transport that records what it was given (as text, during the send) and answers as told. */
class RecordingTransport implements ConnectionTransport {
  readonly sent: string[] = [];
  readonly events: string[] = [];
  answer: SendResult = "sent";
  /** The last frame object itself, kept against the rules. */
  keptAgainstTheRules: Frame | KeptFrame | null = null;

  send(frame: Frame | KeptFrame): SendResult {
    if (this.answer !== "dropped") this.sent.push(typeof frame === "string" ? frame : byteFrameText(frame as never));
    this.keptAgainstTheRules = frame;
    return this.answer;
  }
  abort(): void {
    this.events.push("abort");
  }
  pauseReceiving(): void {
    this.events.push("pause");
  }
  resumeReceiving(): void {
    this.events.push("resume");
  }
}

const bytesFrame = (text: string) => encodeBase64Frame(`{"x":"`, new TextEncoder().encode(text), `"}`);
const settled = async (p: Promise<unknown> | undefined) => {
  if (!p) return "now";
  let done = false;
  void p.then(() => (done = true));
  await Promise.resolve();
  await Promise.resolve();
  return done ? "settled" : "pending";
};

describe("ConnectionFlow: out", () => {
  test("a frame the transport drops is kept (a copy) and sent first on drain, in order", () => {
    const t = new RecordingTransport();
    const flow = new ConnectionFlow(t, 1);
    t.answer = "dropped";
    flow.send(bytesFrame("one"));
    flow.send("two");
    expect(t.sent).toEqual([]);
    t.answer = "sent";
    flow.drained();
    expect(t.sent).toEqual(['{"x":"b25l"}', "two"]);
  });

  test("the test suite runs with the lent-frame check on", () => {
    expect(CHECK_LENT_FRAMES).toBe(true);
  });

  test("a lent frame's bytes are overwritten once its send returns: a transport that kept it sends garbage", () => {
    const t = new RecordingTransport();
    new ConnectionFlow(t, 1).send(bytesFrame("hello"));
    expect(t.sent).toEqual(['{"x":"aGVsbG8="}']);
    const kept = t.keptAgainstTheRules as Exclude<Frame, string>;
    expect(byteFrameText(kept)).toBe("#".repeat('{"x":"aGVsbG8="}'.length));
  });

  test("a congested frame counts as taken; producers wait until the transport drains", async () => {
    const t = new RecordingTransport();
    const flow = new ConnectionFlow(t, 1);
    expect(flow.ready()).toBeUndefined();
    t.answer = "congested";
    flow.send("a");
    const wait = flow.ready();
    expect(await settled(wait)).toBe("pending");
    flow.send("b"); // queued behind the congestion, not handed to the transport
    expect(t.sent).toEqual(["a"]);
    t.answer = "sent";
    flow.drained();
    expect(t.sent).toEqual(["a", "b"]);
    expect(await settled(wait)).toBe("settled");
    expect(flow.ready()).toBeUndefined();
  });

  test("producers wait above the high-water mark even when the transport only dropped", async () => {
    const t = new RecordingTransport();
    const flow = new ConnectionFlow(t, 1);
    t.answer = "dropped";
    flow.send("x".repeat(OUTBOX_HIGH_WATER_BYTES));
    expect(await settled(flow.ready())).toBe("pending");
  });

  test("closing discards the queue and releases every waiter", async () => {
    const t = new RecordingTransport();
    const flow = new ConnectionFlow(t, 1);
    t.answer = "dropped";
    flow.send("lost");
    const wait = flow.ready();
    flow.close();
    expect(await settled(wait)).toBe("settled");
    flow.drained();
    expect(t.sent).toEqual([]);
  });
});

describe("ConnectionFlow: requests", () => {
  test("one slot: the second request waits for the first to be answered", async () => {
    const flow = new ConnectionFlow(new RecordingTransport(), 1);
    expect(await flow.requestSlot()).toBe(true);
    const second = flow.requestSlot();
    expect(await settled(second)).toBe("pending");
    flow.releaseSlot();
    expect(await second).toBe(true);
    expect(flow.requestsInFlight).toBe(1);
  });

  test("answers backlogged for a client that does not read hold the next request until half have gone", async () => {
    const t = new RecordingTransport();
    const flow = new ConnectionFlow(t, 4);
    t.answer = "dropped";
    flow.send("a".repeat(ANSWER_BACKLOG_BYTES), true);
    const next = flow.requestSlot();
    expect(await settled(next)).toBe("pending");
    t.answer = "sent";
    flow.drained();
    expect(await next).toBe(true);
  });

  test("output queued past the answer backlog does not hold a request (a terminate must get through)", async () => {
    const t = new RecordingTransport();
    const flow = new ConnectionFlow(t, 1);
    t.answer = "dropped";
    flow.send("o".repeat(4 * ANSWER_BACKLOG_BYTES));
    expect(await settled(flow.requestSlot())).toBe("settled");
  });

  test("a request waiting for a slot learns the connection is gone", async () => {
    const flow = new ConnectionFlow(new RecordingTransport(), 1);
    await flow.requestSlot();
    const waiting = flow.requestSlot();
    flow.close();
    expect(await waiting).toBe(false);
  });
});

describe("ConnectionFlow: in", () => {
  test("reading pauses on the first hold and resumes only when no hold is left", () => {
    const t = new RecordingTransport();
    const flow = new ConnectionFlow(t, 1);
    flow.holdReading("inbox-full", true);
    flow.holdReading("awaiting-room", true);
    flow.holdReading("inbox-full", false);
    expect(t.events).toEqual(["pause"]);
    flow.holdReading("awaiting-room", false);
    flow.holdReading("awaiting-room", false);
    expect(t.events).toEqual(["pause", "resume"]);
  });
});
