/** `lazy`: wire schemas built on first use, and indistinguishable from the schema once built. */
import { expect, test } from "bun:test";
import { z } from "zod";
import { lazy, opt, serdeMessage, struct, u64 } from "../../src/protocol/serde.ts";

test("nothing is built until the schema is used, and it is built once", () => {
  let builds = 0;
  const Inner = lazy(() => {
    builds++;
    return struct("Inner", { n: u64() });
  });
  expect(builds).toBe(0);
  // Nesting is a use: the outer schema wraps the inner one.
  const Outer = lazy(() => struct("Outer", { inner: opt(Inner) }));
  expect(builds).toBe(0);
  expect(Outer.parse({ inner: { n: 3 } })).toEqual({ inner: { n: 3 } });
  expect(Inner.parse([4])).toEqual({ n: 4 });
  expect(builds).toBe(1);
});

test("errors, types and zod's own checks read as the built schema's", () => {
  const S = lazy(() => struct("S", { n: u64() }));
  const r = S.safeParse({ n: -1 });
  expect(r.success).toBe(false);
  if (!r.success) expect(serdeMessage(r.error)).toBe("invalid number");
  expect(S instanceof z.ZodType).toBe(true);
  const typed: { n: number } = S.parse({ n: 1 });
  expect(typed).toEqual({ n: 1 });
});
