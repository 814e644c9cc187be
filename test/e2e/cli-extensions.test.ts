/**
 * `execbox ps` and `execbox exec --timeout` (extensions `processList` and
 * `timeouts`) through the compiled binary when EXECBOX_BIN is set: against
 * execbox they work; against the reference, which has neither, they fail at
 * once with one line and a documented exit code.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { runCli } from "../helpers/cli.ts";
import { readFirstLine } from "../helpers/first-line.ts";
import { startTcpProxy } from "../helpers/tcp-proxy.ts";
import { waitUntil } from "../helpers/wait.ts";
import { referenceForTests } from "../helpers/reference-bin.ts";
import { RawClient } from "../helpers/rpc-client.ts";
import { type RunningServer, execboxCommand, startServer, tempDir } from "../helpers/server.ts";

setDefaultTimeout(30_000);

const ENV = { PATH: "/usr/bin:/bin" };
const dir = tempDir();
afterAll(() => dir[Symbol.dispose]());

/** A session with processes, left detached; returns its id and a way back into it. */
async function detachedSession(url: string, start: (c: RawClient) => Promise<void>): Promise<string> {
  const c = await RawClient.websocket(url);
  const { sessionId } = await c.initialize();
  await start(c);
  c.close();
  await c.waitClosed();
  return sessionId;
}

describe("against execbox", () => {
  let server: RunningServer;
  beforeAll(async () => (server = await startServer()));
  afterAll(() => server.stop("SIGKILL"));

  test("ps lists a detached session's processes as a table and as JSON, and leaves it resumable", async () => {
    const sessionId = await detachedSession(server.url, async (c) => {
      await c.ok("process/start", { processId: "built", argv: ["sh", "-c", "printf done; exit 3"], cwd: dir.uri, env: ENV, tty: false });
      await c.processDone("built");
      await c.ok("process/start", { processId: "server", argv: ["sleep", "300"], cwd: dir.uri, env: ENV, tty: false });
    });
    const table = await runCli(["ps", "--url", server.url, "--session", sessionId]);
    expect([table.code, table.stderr]).toEqual([0, ""]);
    const lines = table.stdout.trimEnd().split("\n");
    expect(lines[0]!.split(/\s+/)).toEqual(["PROCESS", "PID", "STATE", "EXIT", "STARTED", "OUT", "COMMAND"]);
    expect(lines.slice(1).map((l) => l.split(/\s+/).filter((_, i) => i !== 1 && i !== 4))).toEqual([
      ["built", "closed", "3", "4", "sh", "-c", "'printf", "done;", "exit", "3'"],
      ["server", "running", "-", "0", "sleep", "300"],
    ]);
    const json = await runCli(["ps", "--url", server.url, "--session", sessionId, "--json"]);
    expect(json.code).toBe(0);
    const listed = JSON.parse(json.stdout);
    expect(listed.map((p: any) => [p.processId, p.state, p.exitCode, p.argv])).toEqual([
      ["built", "closed", 3, ["sh", "-c", "printf done; exit 3"]],
      ["server", "running", null, ["sleep", "300"]],
    ]);
    expect(new Date(listed[1].startedAtMs).toISOString()).toBe(lines[2]!.split(/\s+/)[4]!);
    // ps detached again: the session is still there to resume.
    const back = await RawClient.websocket(server.url);
    await back.initialize("t", sessionId);
    expect(await back.ok("process/terminate", { processId: "server" })).toEqual({ running: true });
    back.close();
  });

  test("exec that loses its connection names its session and process, and ps finds the command running there", async () => {
    using proxy = startTcpProxy(server.url);
    const exec = Bun.spawn([...execboxCommand(), "exec", "--url", proxy.url, "-T", "--no-stdin", "--", "sh", "-c", "echo started; exec sleep 300"], {
      stdout: "pipe",
      stderr: "pipe",
    });
    try {
      expect(await readFirstLine(exec.stdout, 10_000)).toBe("started");
      let stderr = "";
      void (async () => {
        for await (const chunk of exec.stderr) stderr += new TextDecoder().decode(chunk);
      })();
      proxy.refuse(true);
      proxy.cut();
      await waitUntil(() => stderr.includes(")\n"), 10_000, "the reconnect line");
      const [, sessionId, processId] = /^execbox: connection lost; reconnecting… \(session (\S+), process (\S+)\)\n/.exec(stderr) ?? [];
      expect(sessionId).toBeDefined();
      const table = await runCli(["ps", "--url", server.url, "--session", sessionId!]);
      expect(table.code).toBe(0);
      expect(table.stdout.trimEnd().split("\n")[1]!.split(/\s+/).filter((_, i) => i !== 1 && i !== 4)).toEqual([processId!, "running", "-", "8", "sh", "-c", "'echo", "started;", "exec", "sleep", "300'"]);
      expect((await runCli(["kill", "--url", server.url, "--session", sessionId!, "--signal", "KILL", processId!])).code).toBe(0);
    } finally {
      exec.kill("SIGKILL");
      await exec.exited;
    }
  });

  test("ps on an unknown session: one line, exit 1", async () => {
    const id = "00000000-0000-4000-8000-000000000000";
    expect(await runCli(["ps", "--url", server.url, "--session", id])).toEqual({ stdout: "", stderr: `execbox: unknown session id ${id}\n`, code: 1 });
  });

  test("exec --timeout: the executor ends the command; exit 124 and one line", async () => {
    const r = await runCli(["exec", "--url", server.url, "--timeout", "300ms", "--", "sh", "-c", "echo hi; exec sleep 300"]);
    expect(r).toEqual({ stdout: "hi\n", stderr: "execbox: timed out after 300 ms; the command was ended (exit 143)\n", code: 124 });
    expect(await runCli(["exec", "--url", server.url, "--timeout", "1m", "--", "sh", "-c", "exit 3"])).toEqual({ stdout: "", stderr: "", code: 3 });
  });

  test("exec --timeout with a malformed duration is a usage error (exit 2)", async () => {
    for (const bad of ["0", "5 s", "1d", "169h", "-1s"]) {
      const r = await runCli(["exec", "--url", server.url, "--timeout", bad, "--", "true"]);
      expect(r).toEqual({
        stdout: "",
        stderr: `Error: invalid value '${bad}' for '--timeout <DURATION>': expected a duration from 1ms to 168h, like 1500ms, 30s, 5m or 2h\n`,
        code: 2,
      });
    }
  });
});

const reference = referenceForTests();
describe.skipIf(!reference)("against the reference (no extensions)", () => {
  let server: RunningServer;
  beforeAll(async () => (server = await startServer([], { command: [reference!, "exec-server"] })));
  afterAll(() => server.stop("SIGKILL"));

  test("ps fails at once with one line, exit 1", async () => {
    const sessionId = await detachedSession(server.url, async () => {});
    const r = await runCli(["ps", "--url", server.url, "--session", sessionId]);
    expect(r).toEqual({
      stdout: "",
      stderr: "execbox: process/list needs the executor's `processList` extension, which it does not advertise (the reference's protocol has no way to do it)\n",
      code: 1,
    });
  });

  test("exec --timeout refuses to run the command without a timeout, exit 125; without --timeout it runs", async () => {
    const r = await runCli(["exec", "--url", server.url, "--timeout", "5s", "--", "touch", `${dir.path}/ran`]);
    expect(r).toEqual({
      stdout: "",
      stderr:
        "execbox: cannot start touch: a process timeout (timeoutMs, idleTimeoutMs) needs the executor's `timeouts` extension, which it does not advertise (the reference's protocol has no way to do it)\n",
      code: 125,
    });
    expect(await Bun.file(`${dir.path}/ran`).exists()).toBe(false);
    expect(await runCli(["exec", "--url", server.url, "--", "sh", "-c", "echo ok"])).toEqual({ stdout: "ok\n", stderr: "", code: 0 });
  });
});
