/**
 * The connection's requests to the client (src/server/client-requests.ts):
 * ids, matching, the cap, and every way a request ends without a result.
 * The frames it sends are collected as the connection would send them.
 */
import { expect, test } from "bun:test";
import { ClientRequests, timerDelay } from "../../src/server/client-requests.ts";

const sent = () => {
  const frames: string[] = [];
  return { frames, requests: new ClientRequests((f) => frames.push(f), 2) };
};
const answer = (id: string, result?: unknown) => ({ id: { json: id }, hasResult: result !== undefined, result });

test("ids count from 1; answers are matched by id; an id never sent is refused, a late one ignored", async () => {
  const { frames, requests } = sent();
  const a = requests.ask("m", { x: 1 }, 60_000);
  const b = requests.ask("m", { x: 2 }, 60_000);
  expect(frames).toEqual(['{"id":1,"method":"m","params":{"x":1}}', '{"id":2,"method":"m","params":{"x":2}}']);
  expect(requests.complete(answer("2", "B"))).toBe(true);
  expect(requests.complete(answer("1"))).toBe(true);
  expect(await Promise.all([a, b])).toEqual([{ ok: false, failure: "error" }, { ok: true, result: "B" }]);
  expect(requests.complete(answer("1", "late"))).toBe(true);
  for (const id of ["3", "0", '"1"', "-1"]) expect([id, requests.complete(answer(id, "x"))]).toEqual([id, false]);
  expect(requests.complete({ id: undefined, hasResult: true, result: 1 })).toBe(false);
});

test("over the cap: refused without being sent; a timeout, a cancel and a close settle what waits", async () => {
  const { frames, requests } = sent();
  const cancel = new AbortController();
  const timed = requests.ask("m", null, 1);
  const cancelled = requests.ask("m", null, 60_000, cancel.signal);
  expect(await requests.ask("m", null, 60_000)).toEqual({ ok: false, failure: "full" });
  expect(frames.length).toBe(2);
  expect(await timed).toEqual({ ok: false, failure: "timeout" });
  cancel.abort();
  expect(await cancelled).toEqual({ ok: false, failure: "cancelled" });
  expect(requests.size).toBe(0);
  const waiting = requests.ask("m", null, 60_000);
  requests.closeAll();
  expect(await waiting).toEqual({ ok: false, failure: "closed" });
  expect(await requests.ask("m", null, 60_000)).toEqual({ ok: false, failure: "closed" });
  expect(requests.size).toBe(0);
});

test("a timeout past setTimeout's longest delay is cut to it, not fired at once", () => {
  expect([timerDelay(2 ** 42 + 5_000), timerDelay(2 ** 31 - 1), timerDelay(6_000), timerDelay(-1)]).toEqual([2 ** 31 - 1, 2 ** 31 - 1, 6_000, 0]);
});
