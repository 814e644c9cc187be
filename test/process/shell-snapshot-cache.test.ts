/**
 * The snapshot cache's bounds (entries, bytes, age, failure retry) and the
 * capture's (bytes, time), with real bash captures of a temp HOME and an
 * injected clock for the ages.
 */
import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { appendFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { captureShell } from "../../src/process/shell-snapshot-capture.ts";
import { type SnapshotLimits, ShellSnapshots } from "../../src/process/shell-snapshot.ts";
import { snapshotHome, snapshotServerEnv } from "../helpers/shell-snapshot.ts";

setDefaultTimeout(30_000);

const home = snapshotHome();
afterAll(() => home[Symbol.dispose]());

const LIMITS: SnapshotLimits = {
  maxEntries: 2,
  maxTotalBytes: 1024 * 1024,
  maxAgeMs: 1_000,
  retryAfterFailureMs: 500,
  capture: { maxBytes: 256 * 1024, timeoutMs: 5_000, exitGraceMs: 200 },
};

function cache(limits: Partial<SnapshotLimits> = {}) {
  let now = 0;
  const logged: string[] = [];
  const snapshots = new ShellSnapshots({ ...LIMITS, ...limits }, () => now, captureShell, (line) => logged.push(line));
  const plan = () => ({ shellPath: "/bin/bash", cwd: home.path, env: snapshotServerEnv(home.path), overlay: {} });
  return { snapshots, logged, get: (key: string) => snapshots.get(key, plan), advance: (ms: number) => void (now += ms) };
}

test("past maxEntries the least recently used snapshot is dropped and captured afresh", async () => {
  const c = cache();
  const runs = home.runs();
  await c.get("a");
  await c.get("b");
  await c.get("a"); // a is now the most recently used
  await c.get("c"); // drops b
  expect([c.snapshots.size, home.runs()]).toEqual([2, runs + 3]);
  await c.get("a");
  expect(home.runs()).toBe(runs + 3);
  await c.get("b");
  expect(home.runs()).toBe(runs + 4);
});

test("past maxTotalBytes older snapshots are dropped", async () => {
  const one = await captureShell({ shellPath: "/bin/bash", cwd: home.path, env: snapshotServerEnv(home.path) }, LIMITS.capture);
  const size = Buffer.byteLength(one.script) + Object.entries(one.env).reduce((n, [k, v]) => n + k.length + v.length + 2, 0);
  const c = cache({ maxEntries: 10, maxTotalBytes: size * 2 + 1 });
  for (const key of ["a", "b", "c"]) await c.get(key);
  expect([c.snapshots.size, c.snapshots.totalBytes]).toEqual([2, size * 2]);
});

test("a snapshot older than maxAgeMs is captured afresh", async () => {
  const c = cache();
  const runs = home.runs();
  await c.get("a");
  c.advance(999);
  await c.get("a");
  expect(home.runs()).toBe(runs + 1);
  c.advance(1);
  await c.get("a");
  expect(home.runs()).toBe(runs + 2);
});

test("a failed capture is remembered for retryAfterFailureMs, then tried again", async () => {
  const c = cache();
  home.set("fail", "");
  try {
    expect(await c.get("f")).toBeNull();
    expect(c.logged).toEqual(["failed to capture shell snapshot: shell snapshot capture exited with exit status: 3"]);
    const runs = home.runs();
    c.advance(499);
    expect(await c.get("f")).toBeNull();
    expect(home.runs()).toBe(runs);
  } finally {
    home.set("fail", null);
  }
  c.advance(1);
  expect((await c.get("f"))?.env.PROFILE_VAR).toBe("from-profile");
});

test("a capture past its byte or time bound fails with why", async () => {
  const big = snapshotHome();
  try {
    // 300 KiB of functions is more than this cache's 256 KiB capture bound.
    writeFileSync(join(big.path, ".bashrc"), Array.from({ length: 3000 }, (_, i) => `f${i}() { echo ${"x".repeat(80)}; }`).join("\n"));
    const spec = { shellPath: "/bin/bash", cwd: big.path, env: snapshotServerEnv(big.path) };
    await expect(captureShell(spec, LIMITS.capture)).rejects.toThrow("shell snapshot capture exceeds 262144 bytes");
    appendFileSync(join(big.path, ".bash_profile"), "sleep 20\n");
    const t0 = Date.now();
    await expect(captureShell(spec, { ...LIMITS.capture, maxBytes: 4 << 20, timeoutMs: 300 })).rejects.toThrow("shell snapshot capture did not finish within 300 ms");
    expect(Date.now() - t0).toBeLessThan(5_000);
  } finally {
    big[Symbol.dispose]();
  }
});
