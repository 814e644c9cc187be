/** timeoutMs and idleTimeoutMs on process/start (extension `timeouts`): TERM, then KILL after a grace, to the whole process group. */
import { afterAll, beforeAll, expect, test, setDefaultTimeout } from "bun:test";
import { readFileSync } from "node:fs";
import type { RawClient } from "../helpers/rpc-client.ts";
import { waitUntil } from "../helpers/wait.ts";
import { isAlive } from "../helpers/proc.ts";
import { clientWithExtension, sharedExecutor, tempDir } from "../helpers/server.ts";
import { MAX_RUN_TIMEOUT_MS, TIMEOUT_KILL_GRACE_MS } from "../../src/process/run-timeouts.ts";

setDefaultTimeout(30_000);

const ENV = { PATH: "/usr/bin:/bin" };
const dir = tempDir();
const pids: number[] = [];

const executor = sharedExecutor();
let c: RawClient;
beforeAll(async () => void (c = await clientWithExtension(executor, "timeouts")));
afterAll(async () => {
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Already gone (what the tests expect).
    }
  }
  dir[Symbol.dispose]();
});

async function pidFrom(name: string): Promise<number> {
  const path = `${dir.path}/${name}`;
  await waitUntil(() => Bun.file(path).size > 0, 10_000, name);
  const pid = Number(readFileSync(path, "utf8").trim());
  pids.push(pid);
  return pid;
}

const start = (processId: string, script: string, extra: Record<string, unknown>) =>
  c.call("process/start", { processId, argv: ["sh", "-c", script], cwd: dir.uri, env: ENV, tty: false, ...extra });

const exitedOf = (processId: string) => c.waitFor((f) => f.method === "process/exited" && f.params.processId === processId, 20_000, `${processId} exited`);

test("timeoutMs: a child that ignores TERM and its grandchild are killed by KILL after the grace; exited says timeout", async () => {
  const t0 = Date.now();
  const r = await start("hard", `trap '' TERM; sleep 300 & echo $! > hard-gc; echo $$ > hard-pid; wait`, { timeoutMs: 300 });
  expect(r.result).toEqual({ processId: "hard", sandboxType: "none" });
  const [child, grandchild] = [await pidFrom("hard-pid"), await pidFrom("hard-gc")];
  const exited = await exitedOf("hard");
  const elapsed = Date.now() - t0;
  expect(exited.params).toEqual({ processId: "hard", seq: exited.params.seq, exitCode: 137, sandboxDenied: false, timedOut: "timeout" });
  // TERM at 300 ms was ignored; KILL came after the grace.
  expect(elapsed).toBeGreaterThanOrEqual(300 + TIMEOUT_KILL_GRACE_MS);
  await c.processDone("hard");
  await waitUntil(() => !isAlive(child) && !isAlive(grandchild), 10_000, "the whole tree gone");
});

test("timeoutMs: a child that handles TERM exits on it, before any KILL", async () => {
  const r = await start("polite", `trap 'echo term; exit 7' TERM; echo ready; sleep 300 & echo $! > polite-gc; wait`, { timeoutMs: 200 });
  expect(r.error).toBeUndefined();
  const grandchild = await pidFrom("polite-gc");
  const exited = await exitedOf("polite");
  expect(exited.params).toMatchObject({ exitCode: 7, timedOut: "timeout" });
  expect(c.output("polite", "stdout").toString()).toBe("ready\nterm\n");
  await c.processDone("polite");
  await waitUntil(() => !isAlive(grandchild), 10_000, "grandchild gone");
});

test("idleTimeoutMs: output every 100 ms keeps it alive for 2 s; silence then ends it", async () => {
  const t0 = Date.now();
  const script = `i=0; while [ $i -lt 20 ]; do echo $i; i=$((i+1)); sleep 0.1; done; sleep 300 & echo $! > idle-gc; wait`;
  expect((await start("idle", script, { idleTimeoutMs: 1_000 })).error).toBeUndefined();
  const grandchild = await pidFrom("idle-gc");
  const exited = await exitedOf("idle");
  // All 20 lines (2 s of output, twice the idle timeout) came out before the silence ended it by TERM.
  expect(c.output("idle", "stdout").toString()).toBe(Array.from({ length: 20 }, (_, i) => `${i}\n`).join(""));
  expect(exited.params).toMatchObject({ exitCode: 143, timedOut: "idle" });
  // The last line comes after 19 pauses of 100 ms; the idle timeout runs from it.
  expect(Date.now() - t0).toBeGreaterThanOrEqual(1_900 + 1_000);
  await c.processDone("idle");
  await waitUntil(() => !isAlive(grandchild), 10_000, "grandchild gone");
});

test("a process that finishes in time has no timedOut (the reference's shape)", async () => {
  expect((await start("quick", "exit 4", { timeoutMs: 10_000, idleTimeoutMs: 10_000 })).error).toBeUndefined();
  const exited = await exitedOf("quick");
  expect(exited.params).toEqual({ processId: "quick", seq: exited.params.seq, exitCode: 4, sandboxDenied: false });
});

test("out-of-range and mistyped timeouts are -32602 and start nothing", async () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ timeoutMs: 0 }, `timeoutMs must be between 1 and ${MAX_RUN_TIMEOUT_MS} milliseconds`],
    [{ idleTimeoutMs: MAX_RUN_TIMEOUT_MS + 1 }, `idleTimeoutMs must be between 1 and ${MAX_RUN_TIMEOUT_MS} milliseconds`],
    [{ timeoutMs: "5s" }, 'invalid type: string "5s", expected u64'],
    [{ idleTimeoutMs: -1 }, "invalid number"],
  ];
  for (const [extra, message] of cases) {
    const r = await start("bad", "touch started", extra);
    expect(r.error).toEqual({ code: -32602, message });
  }
  expect((await c.ok("process/list")).processes.some((p: any) => p.processId === "bad")).toBe(false);
  expect(await Bun.file(`${dir.path}/started`).exists()).toBe(false);
});

test("null timeouts mean none, as in Codex's app-server", async () => {
  expect((await start("nulls", "exit 0", { timeoutMs: null, idleTimeoutMs: null })).error).toBeUndefined();
  expect((await exitedOf("nulls")).params.timedOut).toBeUndefined();
});
