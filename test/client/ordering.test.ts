/** Units: seq reordering, exactly-once delivery, and how a catch-up fills holes. */
import { describe, expect, test } from "bun:test";
import type { ProcessReadResult } from "../../src/protocol/messages/process.ts";
import { AsyncQueue } from "../../src/client/async-queue.ts";
import { type ProcessEvent, type ProcessHost, RemoteProcess } from "../../src/client/remote-process.ts";
import { SKIP, SeqOrder } from "../../src/client/seq-order.ts";

const b64 = (s: string) => Buffer.from(s).toString("base64");
const host = (): ProcessHost & { forgotten: string[] } => {
  const forgotten: string[] = [];
  return {
    forgotten,
    write: async () => "accepted",
    interrupt: async () => {},
    closeStdin: async () => "accepted",
    resize: async () => {},
    signal: async () => {},
    terminate: async () => true,
    forget: (id) => void forgotten.push(id),
  };
};
const out = (seq: number, text: string, stream: "stdout" | "stderr" = "stdout") =>
  ({ processId: "p", seq, stream, chunk: b64(text) }) as const;
const summary = (events: ProcessEvent[]) =>
  events.map((e) =>
    e.type === "output" ? `${e.seq}:${Buffer.from(e.data).toString()}` : e.type === "gap" ? `${e.seq}:gap${e.count}` : `${e.seq}:${e.type}`,
  );
const read = (over: Partial<ProcessReadResult>): ProcessReadResult => ({
  chunks: [],
  nextSeq: 1,
  exited: false,
  exitCode: null,
  closed: false,
  failure: null,
  sandboxDenied: false,
  ...over,
});

async function drain(p: RemoteProcess): Promise<ProcessEvent[]> {
  const events: ProcessEvent[] = [];
  for await (const e of p) events.push(e);
  return events;
}

describe("SeqOrder", () => {
  test("delivers in seq order, each seq once, holding events behind a hole", () => {
    const got: number[] = [];
    const order = new SeqOrder<{ seq: number }>((e) => got.push(e.seq));
    for (const s of [3, 1, 1, 5, 2, 3, 4, 2]) order.push({ seq: s });
    expect(got).toEqual([1, 2, 3, 4, 5]);
    order.push({ seq: 7 });
    expect(order.holesBelow(9)).toEqual([6, 8]);
    order.fill(6, SKIP);
    expect(got).toEqual([1, 2, 3, 4, 5, 7]);
    expect(order.delivered).toBe(7);
  });
});

describe("AsyncQueue", () => {
  test("buffers, ends, fails after draining, and reports an early return once", async () => {
    let returned = 0;
    const q = new AsyncQueue<number>(() => returned++);
    q.push(1);
    q.push(2);
    q.fail(new Error("x"));
    expect(await q.next()).toEqual({ value: 1, done: false });
    expect(await q.next()).toEqual({ value: 2, done: false });
    await expect(q.next()).rejects.toThrow("x");
    const r = new AsyncQueue<number>(() => returned++);
    const it = r[Symbol.asyncIterator]();
    expect(() => r[Symbol.asyncIterator]()).toThrow("already being iterated");
    await it.return!();
    await it.return!();
    expect(returned).toBe(1);
  });
});

describe("RemoteProcess", () => {
  test("out-of-order pushes (closed before exited, stderr before stdout) come out in seq order", async () => {
    const h = host();
    const p = new RemoteProcess("p", h);
    p.receive("process/closed", { processId: "p", seq: 5 });
    p.receive("process/output", out(2, "b", "stderr"));
    p.receive("process/exited", { processId: "p", seq: 4, exitCode: 3, sandboxDenied: false });
    p.receive("process/output", out(1, "a"));
    p.receive("process/output", out(1, "a"));
    p.receive("process/output", out(3, "c"));
    expect(summary(await drain(p))).toEqual(["1:a", "2:b", "3:c", "4:exited", "5:closed"]);
    expect(await p.exited).toBe(3);
    expect(await p.closed).toBe(3);
    expect(h.forgotten).toEqual(["p"]);
  });

  test("catch-up merges reads and pushes by seq; exited/closed missed while detached are synthesized", async () => {
    const p = new RemoteProcess("p", host());
    p.receive("process/output", out(1, "a"));
    // Detached: seqs 2..3 output, 4 exited, 5 output (after the exit), 6 closed. One push (5) raced the read.
    p.receive("process/output", out(5, "e"));
    const reads: number[] = [];
    await p.catchUp(async ({ afterSeq }) => {
      reads.push(afterSeq);
      if (afterSeq === 1) return read({ chunks: [{ seq: 2, stream: "stdout", chunk: b64("b") }], nextSeq: 3 });
      if (afterSeq === 2) return read({ chunks: [{ seq: 3, stream: "stdout", chunk: b64("c") }, { seq: 5, stream: "stdout", chunk: b64("e") }], nextSeq: 6 });
      return read({ nextSeq: 7, exited: true, exitCode: 9, closed: true });
    });
    expect(reads).toEqual([1, 2, 5]);
    expect(summary(await drain(p))).toEqual(["1:a", "2:b", "3:c", "4:exited", "5:e", "6:closed"]);
    expect(await p.closed).toBe(9);
  });

  test("output evicted before the catch-up is reported as one gap, never silently skipped", async () => {
    const p = new RemoteProcess("p", host());
    p.receive("process/output", out(1, "a"));
    await p.catchUp(async ({ afterSeq }) =>
      afterSeq === 1 ? read({ chunks: [{ seq: 5, stream: "stdout", chunk: b64("e") }], nextSeq: 6 }) : read({ nextSeq: 6 }),
    );
    p.receive("process/exited", { processId: "p", seq: 6, exitCode: 0, sandboxDenied: false });
    p.receive("process/closed", { processId: "p", seq: 7 });
    expect(summary(await drain(p))).toEqual(["1:a", "2:gap3", "5:e", "6:exited", "7:closed"]);
    expect(p.lostSeqs).toBe(3);
  });

  test("fail() rejects the iterator and both promises", async () => {
    const p = new RemoteProcess("p", host());
    p.receive("process/output", out(1, "a"));
    p.fail(new Error("gone"));
    const it = p[Symbol.asyncIterator]();
    expect((await it.next()).value).toMatchObject({ type: "output" });
    await expect(it.next()).rejects.toThrow("gone");
    await expect(p.exited).rejects.toThrow("gone");
    await expect(p.closed).rejects.toThrow("gone");
  });
});
