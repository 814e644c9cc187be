/** The large-message budget and the reclaimer, with a counting collector in place of the GC. */
import { expect, test } from "bun:test";
import { IncomingBudget, Reclaimer } from "../../src/server/incoming-memory.ts";
import { RECLAIM_AFTER_BYTES, RECLAIM_AFTER_SENT_BYTES } from "../../src/server/limits.ts";
import { waitUntil } from "../helpers/wait.ts";

const MiB = 1 << 20;

test("the budget takes whole reservations only, and wakes every waiter when some is given back", () => {
  const budget = new IncomingBudget(32 * MiB, new Reclaimer(() => {}));
  const woken: string[] = [];
  expect(budget.take(16 * MiB, () => woken.push("a"))).toBe(true);
  expect(budget.take(16 * MiB, () => woken.push("b"))).toBe(true);
  expect(budget.take(1 * MiB, () => woken.push("c"))).toBe(false);
  const forgotten = () => woken.push("d");
  expect(budget.take(2 * MiB, forgotten)).toBe(false);
  budget.forget(forgotten);
  budget.give(16 * MiB);
  expect(woken).toEqual(["c"]);
  expect(budget.take(16 * MiB, () => woken.push("e"))).toBe(true);
  expect(budget.take(1, () => woken.push("f"))).toBe(false);
});

test("the reclaimer collects once per RECLAIM_AFTER_BYTES handled, and soon after the last one", async () => {
  let collections = 0;
  const reclaimer = new Reclaimer(() => collections++);
  for (let handled = 0; handled < RECLAIM_AFTER_BYTES; handled += 4 * MiB) reclaimer.handled(4 * MiB);
  await waitUntil(() => collections === 1, 1_000, "a collection after 16 MiB handled");
  reclaimer.handled(MiB);
  await waitUntil(() => collections === 2, 2_000, "a collection after the last message");
});

test("the reclaimer collects once per RECLAIM_AFTER_SENT_BYTES of outgoing byte frames", async () => {
  let collections = 0;
  const reclaimer = new Reclaimer(() => collections++);
  reclaimer.sent(RECLAIM_AFTER_SENT_BYTES - 1);
  reclaimer.sent(1);
  await waitUntil(() => collections === 1, 1_000, "a collection after 64 MiB sent");
});
