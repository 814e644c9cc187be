/** process/list (extension `processList`): the session's processes, read again after a reconnect with resumeSessionId. */
import { afterAll, expect, test, setDefaultTimeout } from "bun:test";
import { RawClient } from "../helpers/rpc-client.ts";
import { waitUntil } from "../helpers/wait.ts";
import { startServer, tempDir } from "../helpers/server.ts";

setDefaultTimeout(30_000);

const ENV = { PATH: "/usr/bin:/bin" };
const pids: number[] = [];
afterAll(() => {
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
});

test("process/list shows running, exited and closed processes, and again after a resume", async () => {
  await using server = await startServer();
  using dir = tempDir();
  const a = await RawClient.websocket(server.url);
  const { sessionId, environmentInfo } = await a.initialize();
  expect(environmentInfo.extensions.processList).toBe(1);
  expect((await a.ok("process/list")).processes).toEqual([]);

  const before = Date.now();
  const start = (processId: string, argv: string[], tty = false) => a.ok("process/start", { processId, argv, cwd: dir.uri, env: ENV, tty });
  await start("done", ["sh", "-c", "printf 'four'; exit 3"]);
  await a.processDone("done");
  // Exits at once, while the sleep it leaves behind holds its stdout: exited, not closed.
  await start("orphaned", ["sh", "-c", `sleep 300 & echo $! > ${dir.path}/orphan; exit 5`]);
  await a.waitFor((f) => f.method === "process/exited" && f.params.processId === "orphaned");
  await start("live", ["sh", "-c", `echo $$ > ${dir.path}/live; exec sleep 300`], true);
  await waitUntil(() => Bun.file(`${dir.path}/live`).size > 0 && Bun.file(`${dir.path}/orphan`).size > 0, 10_000, "pid files");
  const orphan = Number((await Bun.file(`${dir.path}/orphan`).text()).trim());
  const live = Number((await Bun.file(`${dir.path}/live`).text()).trim());
  pids.push(orphan, live);
  const after = Date.now();

  a.close();
  await a.waitClosed();
  const b = await RawClient.websocket(server.url);
  await b.initialize("t", sessionId);
  const { processes } = await b.ok("process/list");
  expect(processes.map((p: any) => [p.processId, p.state, p.exitCode, p.tty, p.bytesOut])).toEqual([
    ["done", "closed", 3, false, 4],
    ["orphaned", "exited", 5, false, 0],
    ["live", "running", null, true, 0],
  ]);
  expect(processes[0].argv).toEqual(["sh", "-c", "printf 'four'; exit 3"]);
  expect(processes[2].pid).toBe(live);
  expect(processes[2].exitedAtMs).toBeNull();
  for (const p of processes) {
    expect(p.startedAtMs).toBeGreaterThanOrEqual(before);
    expect(p.startedAtMs).toBeLessThanOrEqual(after);
    if (p.state !== "running") {
      expect(p.exitedAtMs).toBeGreaterThanOrEqual(p.startedAtMs);
      expect(p.exitedAtMs).toBeLessThanOrEqual(after);
    }
  }

  await b.ok("process/terminate", { processId: "live" });
  await b.processDone("live");
  expect((await b.ok("process/list")).processes[2]).toMatchObject({ processId: "live", state: "closed", exitCode: 137 });
  b.close();
});

test("process/list takes no params, as environment/info", async () => {
  await using server = await startServer();
  const c = await RawClient.websocket(server.url);
  await c.initialize();
  expect((await c.call("process/list", { processId: "x" })).error).toEqual({ code: -32602, message: "invalid type: map, expected unit" });
  c.close();
});
