/**
 * The deny-glob matcher: the old regex semantics, and a cost that stays
 * linear for hostile patterns (a regex with 15 `*` against 40 `a`s
 * backtracked for minutes on the event loop).
 */
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { ErrorCode } from "../../src/protocol/errors.ts";
import { SCAN_DIRECTORY_STEPS, SCAN_ENTRY_STEPS, compileGlob, globBudget } from "../../src/sandbox/glob-match.ts";
import { expandGlob, resolveSandbox } from "../../src/sandbox/policy.ts";
import { RawClient } from "../helpers/rpc-client.ts";
import { SANDBOX_ENV, special } from "../helpers/sandbox.ts";
import { startServer, tempDir } from "../helpers/server.ts";

const HOSTILE = `/tmp/x/${Array(15).fill("a").join("*")}*b`;

describe("compileGlob", () => {
  test.each([
    ["/a/**/*.key", ["/a/b.key", "/a/x/y/z.key"], ["/a/b.txt", "/a.key", "/b/c.key"]],
    ["/a/**", ["/a/", "/a/x", "/a/x/y"], ["/a", "/b/x"]],
    ["/a/**/", ["/a/", "/a/x/"], ["/a/x"]],
    ["/a/*", ["/a/", "/a/bb"], ["/a/b/c"]],
    ["/a/?b", ["/a/xb"], ["/a//b", "/a/b", "/a/xxb"]],
    ["/a/[a-c]x", ["/a/bx"], ["/a/dx"]],
    ["/a/[!a-c]x", ["/a/dx", "/a//x"], ["/a/bx"]],
    ["/a/[^a]x", ["/a/bx"], ["/a/ax"]],
    ["/a/[a-]z", ["/a/-z", "/a/az"], ["/a/bz"]],
    ["/a/[]x", [], ["/a/x", "/a/]x"]],
    ["/a/[!]x", ["/a/qx", "/a//x"], ["/a/x"]],
    ["/a/[x", ["/a/[x"], ["/a/x"]],
    ["/a/b.c(+)$", ["/a/b.c(+)$"], ["/a/bxc(+)$"]],
    ["/a/**/b/**/c", ["/a/b/c", "/a/q/b/r/s/c"], ["/a/bc", "/a/b/cc"]],
  ])("%s", (glob, yes, no) => {
    const m = compileGlob(glob);
    for (const p of yes) expect([p, m.test(p)]).toEqual([p, true]);
    for (const p of no) expect([p, m.test(p)]).toEqual([p, false]);
  });

  test("`**` matches names with line breaks too (the old regex's `.` did not, leaving them undenied)", () => {
    expect(compileGlob("/a/**").test("/a/x\ny")).toBe(true);
  });

  test("a range out of order is -32602 naming the pattern (was -32603 from the regex engine)", () => {
    expect(() => compileGlob("/a/[z-a]")).toThrow(expect.objectContaining({ code: ErrorCode.InvalidParams, message: "invalid glob pattern `/a/[z-a]`: range out of order in `[z-a]`" }));
  });

  test("regression: many `*` against a long run cost at most (path length) × (2 × tokens + 1) steps", () => {
    for (const n of [40, 400, 4000]) {
      const budget = globBudget(Number.POSITIVE_INFINITY);
      const m = compileGlob(HOSTILE, budget);
      const path = `/tmp/x/${"a".repeat(n)}`;
      expect(m.test(path)).toBe(false);
      // HOSTILE has 7 + 15 + 14 + 1 + 1 = 38 tokens.
      expect(budget.steps).toBeLessThanOrEqual(path.length * (2 * 38 + 1));
      expect(m.test(`${path}b`)).toBe(true);
    }
  });

  test("a pattern past its step budget is -32602; a run of `**` costs one state", () => {
    const m = compileGlob(HOSTILE, globBudget(10_000));
    expect(() => m.test(`/tmp/x/${"a".repeat(4000)}`)).toThrow(
      expect.objectContaining({
        code: ErrorCode.InvalidParams,
        message: `deny globs are too costly to match: more than 10000 steps over the entries they scan (stopped at \`${HOSTILE}\`)`,
      }),
    );
    const budget = globBudget(Number.POSITIVE_INFINITY);
    const stars = compileGlob(`/a/${"**/".repeat(1000)}x`, budget);
    expect(stars.test(`/a/${"b/".repeat(100)}x`)).toBe(true);
    expect(budget.steps).toBeLessThanOrEqual(200 * 3);
    expect(() => compileGlob(`/${"a".repeat(4096)}`)).toThrow("invalid glob pattern: longer than 4096 characters");
  });

  test("the budget is shared by all of a policy's deny globs: many cheap ones cannot add up to a stall", () => {
    using d = tempDir("execbox-glob-many-");
    for (let i = 0; i < 100; i++) writeFileSync(join(d.path, `f${i}`), "");
    // 100 entries read per glob: 400,000 globs would read 40 M entries (~30 s); the budget stops them first (≈ 1 s).
    const glob = { path: { type: "glob_pattern", pattern: `${d.path}/*.pem` }, access: "deny" };
    const entries = [{ path: { type: "special", value: { kind: "root" } }, access: "read" }, ...Array(400_000).fill(glob)];
    const sandbox = { permissions: { type: "managed", file_system: { type: "restricted", entries }, network: "restricted" }, cwd: d.uri, windowsSandboxLevel: "disabled" };
    expect(() => resolveSandbox(sandbox as never, { cwd: d.path, env: {} })).toThrow(
      `deny globs are too costly to match: more than 67108864 steps over the entries they scan (stopped at \`${d.path}/*.pem\`)`,
    );
  }, 20_000);
});

test("regression: a hostile deny glob does not freeze the executor; another connection is answered", async () => {
  using dir = tempDir("execbox-glob-");
  // Before: the regex took minutes on this one entry, and every connection waited.
  writeFileSync(join(dir.path, "a".repeat(40)), "");
  await using server = await startServer();
  const [a, b] = [await RawClient.websocket(server.url), await RawClient.websocket(server.url)];
  await a.initialize();
  await b.initialize();
  const hostile = { path: { type: "glob_pattern", pattern: `${dir.path}/${Array(15).fill("a").join("*")}*b` }, access: "deny" };
  const fileSystem = { type: "restricted", entries: [{ path: special("root"), access: "read" }, hostile] };
  const sandbox = { permissions: { type: "managed", file_system: fileSystem, network: "restricted" }, cwd: dir.uri, windowsSandboxLevel: "disabled" };
  const start = a.call("process/start", { processId: "p", argv: ["true"], cwd: dir.uri, env: SANDBOX_ENV, tty: false, sandbox }, 20_000);
  expect(await b.ok("environment/status", undefined, 20_000)).toEqual({ status: "ready" });
  expect((await start).result).toEqual({ processId: "p", sandboxType: "linuxSeccomp" });
  a.close();
  b.close();
}, 30_000);

test("a deny-glob scan too big for its budget is refused, never cut short with matches left unmasked", () => {
  using dir = tempDir("execbox-glob-scan-");
  for (let i = 0; i < 200; i++) writeFileSync(join(dir.path, `f${i}.pem`), "");
  const pattern = `${dir.path}/*.pem`;
  expect(expandGlob(pattern, "/", 8)).toHaveLength(200);
  // A budget that covers the directory read but not all 200 entries.
  let error: unknown;
  try {
    expandGlob(pattern, "/", 8, globBudget(SCAN_DIRECTORY_STEPS + SCAN_ENTRY_STEPS * 100));
  } catch (e) {
    error = e;
  }
  expect((error as { code?: number })?.code).toBe(ErrorCode.InvalidParams);
  expect(String((error as Error).message)).toStartWith("deny globs are too costly to match");
});
