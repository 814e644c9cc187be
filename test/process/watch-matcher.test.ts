/** The watch worker's matching (watch-matcher.ts), driven step by step in this thread. */
import { expect, test } from "bun:test";
import { MATCH_STEP_BYTES, WatchMatcher } from "../../src/process/watch-matcher.ts";
import type { FromWatchWorker } from "../../src/process/watch-messages.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

function matcher() {
  const said: FromWatchWorker[] = [];
  const m = new WatchMatcher((x) => said.push(x));
  /** Runs one step at a time (a zero budget) until nothing is queued. */
  const drain = () => {
    while (m.work(0));
  };
  return { m, said, drain };
}

test("processes take turns a step at a time: a small chunk queued after a long backlog is matched before the backlog is done", () => {
  const { m, said, drain } = matcher();
  m.receive({ t: "add", key: 1, id: "w1", pattern: "^never$", stream: null });
  m.receive({ t: "add", key: 2, id: "w1", pattern: "^ready$", stream: null });
  const backlog = bytes(`${"x".repeat(99)}\n`.repeat((10 * MATCH_STEP_BYTES) / 100));
  m.receive({ t: "chunk", key: 1, ids: ["w1"], seq: 1, stream: "stdout", bytes: backlog });
  m.receive({ t: "chunk", key: 2, ids: ["w1"], seq: 7, stream: "stdout", bytes: bytes("ready\n") });
  drain();
  expect(said.filter((x) => x.t !== "added")).toEqual([
    { t: "matched", key: 2, id: "w1", seq: 7, stream: "stdout", line: "ready" },
    { t: "ack", key: 2, bytes: 6 },
    { t: "ack", key: 1, bytes: backlog.byteLength },
  ]);
});

test(`a line across a step boundary (${MATCH_STEP_BYTES} bytes) and across chunks is whole; close matches the unfinished last line, then answers`, () => {
  const { m, said, drain } = matcher();
  m.receive({ t: "add", key: 1, id: "long", pattern: "^a+$", stream: null });
  m.receive({ t: "add", key: 1, id: "tail", pattern: "^tail$", stream: "stderr" });
  // The a-line starts before the first step's end and ends after it.
  m.receive({ t: "chunk", key: 1, ids: ["long"], seq: 2, stream: "stdout", bytes: bytes(`${"x\n".repeat(1000)}${"a".repeat(3000)}\nmore`) });
  m.receive({ t: "chunk", key: 1, ids: ["tail"], seq: 3, stream: "stderr", bytes: bytes("ta") });
  m.receive({ t: "chunk", key: 1, ids: ["tail"], seq: 4, stream: "stderr", bytes: bytes("il") });
  m.receive({ t: "close", key: 1, ids: ["long", "tail"], token: 9 });
  drain();
  expect(said.filter((x) => x.t === "matched" || x.t === "closed")).toEqual([
    { t: "matched", key: 1, id: "long", seq: 2, stream: "stdout", line: "a".repeat(3000) },
    { t: "matched", key: 1, id: "tail", seq: 4, stream: "stderr", line: "tail" },
    { t: "closed", key: 1, token: 9 },
  ]);
});

test("a pattern RE2 refuses is answered at once with its reason, ahead of queued matching", () => {
  const { m, said } = matcher();
  m.receive({ t: "add", key: 1, id: "w1", pattern: "x", stream: null });
  m.receive({ t: "chunk", key: 1, ids: ["w1"], seq: 1, stream: "stdout", bytes: bytes("y\n".repeat(1000)) });
  m.receive({ t: "add", key: 1, id: "w2", pattern: "(a)\\1", stream: null });
  expect(said).toEqual([
    { t: "added", key: 1, id: "w1", error: null },
    { t: "added", key: 1, id: "w2", error: "watch pattern is not an RE2 regular expression (no backreferences or lookaround): error parsing regexp: invalid escape sequence: `\\1`" },
  ]);
});
