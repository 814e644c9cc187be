/**
 * `execbox exec` and `execbox kill` using the executor's extensions
 * (src/cli/exec-extensions.ts, src/cli/kill.ts), through the compiled binary
 * when EXECBOX_BIN is set; and degrading against the reference, which has none.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { connectWebSocket } from "../../src/client/index.ts";
import { NO_PTY_SIZE_NOTE, STDIN_EOF_WARNING } from "../../src/cli/exec-extensions.ts";
import { ExecboxUnsupportedError } from "../../src/client/index.ts";
import { CLI_DEADLINE_MS, runCli, runCliPiped } from "../helpers/cli.ts";
import { referenceForTests } from "../helpers/reference-bin.ts";
import { type RunningServer, execboxCommand, startServer, tempDir } from "../helpers/server.ts";
import { waitUntil } from "../helpers/wait.ts";

setDefaultTimeout(30_000);

const dir = tempDir();
let server: RunningServer;
const reference = referenceForTests();
let ref: RunningServer | undefined;

beforeAll(async () => {
  server = await startServer([], { cwd: dir.path });
  if (reference) ref = await startServer([], { command: [reference, "exec-server"], cwd: dir.path });
});
afterAll(async () => {
  await server?.stop("SIGTERM");
  await ref?.stop("SIGTERM");
  dir[Symbol.dispose]();
});

/** The CLI inside a PTY of `rows` x `cols`, its terminal output collected; killed at the deadline. */
function cliAtTerminal(args: string[], rows: number, cols: number) {
  let out = "";
  const decoder = new TextDecoder();
  const proc = Bun.spawn([...execboxCommand(), ...args], { terminal: { rows, cols, data: (_t, b) => void (out += decoder.decode(b, { stream: true })) } });
  const timer = setTimeout(() => proc.kill("SIGKILL"), CLI_DEADLINE_MS);
  return {
    proc,
    output: () => out,
    async done() {
      const code = await proc.exited;
      clearTimeout(timer);
      proc.terminal?.close();
      return code;
    },
  };
}

/** Starts `script` in a fresh session, then drops the connection: the session is detached, its process left running. */
async function leaveRunning(url: string, script: string): Promise<{ session: string; processId: string }> {
  const client = await connectWebSocket(url);
  const proc = await client.startProcess({ argv: ["bash", "-c", script], cwd: dir.uri, env: { PATH: "/usr/bin:/bin" }, tty: false });
  const session = client.sessionId;
  await client.close();
  return { session, processId: proc.id };
}

describe("against execbox (extensions advertised)", () => {
  test("the client library: closeStdin, resize and signal on a RemoteProcess", async () => {
    const client = await connectWebSocket(server.url);
    try {
      expect([client.supports("closeStdin"), client.supports("ptySize"), client.supports("signals")]).toEqual([true, true, true]);
      const env = { PATH: "/usr/bin:/bin" };
      const wc = await client.startProcess({ argv: ["wc", "-l"], cwd: dir.uri, env, tty: false, pipeStdin: true });
      await wc.write("a\nb\n");
      expect(await wc.closeStdin()).toBe("accepted");
      expect(await wc.write("c\n")).toBe("stdinClosed");
      expect(new TextDecoder().decode((await wc.collect()).stdout)).toBe("2\n");
      const pty = await client.startProcess({ argv: ["bash", "-c", "trap 'stty size' WINCH; stty size; while :; do sleep 0.02; done"], cwd: dir.uri, env, tty: true, size: { rows: 30, cols: 90 } });
      let out = "";
      const events = (async () => {
        for await (const e of pty) if (e.type === "output") out += new TextDecoder().decode(e.data);
      })();
      await waitUntil(() => out === "30 90\r\n", 10_000, "initial size");
      await pty.resize({ rows: 31, cols: 91 });
      await waitUntil(() => out === "30 90\r\n31 91\r\n", 10_000, "resized");
      await pty.signal("SIGTERM");
      expect(await pty.closed).toBe(143);
      await events;
    } finally {
      await client.close();
    }
  });

  test("printf 'a\\nb\\n' | execbox exec -- wc -l prints 2 and exits 0: local EOF closes remote stdin", async () => {
    expect(await runCliPiped(["exec", "--url", server.url, "--", "wc", "-l"], "a\nb\n")).toEqual({ stdout: "2\n", stderr: "", code: 0 });
    const sorted = await runCliPiped(["exec", "--url", server.url, "--", "sort"], "b\na\n");
    expect(sorted).toEqual({ stdout: "a\nb\n", stderr: "", code: 0 });
  });

  test("-t: the local terminal's size at start, and again after each SIGWINCH", async () => {
    const script = "trap 'stty size' WINCH; stty size; while :; do sleep 0.02; done";
    const t = cliAtTerminal(["exec", "--url", server.url, "-t", "--", "bash", "-c", script], 40, 150);
    // The remote PTY writes CRLF, and the local one turns its LF into CRLF again.
    const lines = () => t.output().replace(/\r+\n/g, "\n");
    await waitUntil(() => lines().includes("40 150\n"), 10_000, "initial size");
    t.proc.terminal!.resize(200, 50);
    await waitUntil(() => lines().includes("40 150\n50 200\n"), 10_000, "size after SIGWINCH");
    t.proc.kill("SIGTERM");
    expect(await t.done()).toBe(137);
  });

  test("execbox kill --session: TERM reaches a process a gone client left running; unknown and exited ids exit 1", async () => {
    const marker = join(dir.path, "term-seen");
    const { session, processId } = await leaveRunning(server.url, `trap 'echo term > ${marker}; exit 3' TERM; while :; do read -t 0.05 _; done`);
    const kill = (id: string, ...flags: string[]) => runCli(["kill", "--url", server.url, "--session", session, ...flags, id]);
    expect(await kill(processId)).toEqual({ stdout: "", stderr: "", code: 0 });
    await waitUntil(() => existsSync(marker) && readFileSync(marker, "utf8") === "term\n", 10_000, "trap output");
    await waitUntil(async () => (await kill(processId)).code === 1, 10_000, "process exited");
    expect(await kill(processId, "--signal", "KILL")).toEqual({ stdout: "", stderr: `execbox: process ${processId} has already exited (exit code 3)\n`, code: 1 });
    expect(await kill("nope")).toEqual({ stdout: "", stderr: "execbox: unknown process id nope\n", code: 1 });
    const bad = await runCli(["kill", "--url", server.url, "--session", session, "--signal", "term", processId]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toStartWith("Error: invalid --signal: unknown signal `term`: expected `interrupt` or a POSIX signal name");
  });
});

describe.skipIf(!reference)("against the reference (no extensions)", () => {
  test("the client library refuses extension calls before sending anything; interrupt still works", async () => {
    const client = await connectWebSocket(ref!.url);
    try {
      expect(client.supports("closeStdin")).toBe(false);
      const proc = await client.startProcess({ argv: ["cat"], cwd: dir.uri, env: { PATH: "/usr/bin:/bin" }, tty: false, pipeStdin: true });
      const refused = await proc.closeStdin().catch((e) => e);
      expect(refused).toBeInstanceOf(ExecboxUnsupportedError);
      expect([refused.extension, refused.message]).toEqual([
        "closeStdin",
        "closing a process's stdin needs the executor's `closeStdin` extension, which it does not advertise (the reference's protocol has no way to do it)",
      ]);
      expect(((await proc.resize({ rows: 10, cols: 10 }).catch((e) => e)) as ExecboxUnsupportedError).extension).toBe("ptySize");
      expect(((await proc.signal("TERM").catch((e) => e)) as ExecboxUnsupportedError).extension).toBe("signals");
      await proc.signal("interrupt");
      expect(await proc.closed).toBe(130);
    } finally {
      await client.close();
    }
  });

  test("-t at a 40x150 terminal: a one-line note that the size cannot be passed on; the command sees 24x80", async () => {
    const t = cliAtTerminal(["exec", "--url", ref!.url, "-t", "--", "stty", "size"], 40, 150);
    expect(await t.done()).toBe(0);
    expect(t.output().replace(/\r+\n/g, "\n")).toBe(`execbox: ${NO_PTY_SIZE_NOTE}\n24 80\n`);
  });

  test("stdin piped to a command that waits for EOF: a one-line warning, and Ctrl-C still stops it (exit 130)", async () => {
    const proc = Bun.spawn([...execboxCommand(), "exec", "--url", ref!.url, "--", "wc", "-l"], { stdin: new TextEncoder().encode("a\nb\n"), stdout: "pipe", stderr: "pipe" });
    const timer = setTimeout(() => proc.kill("SIGKILL"), CLI_DEADLINE_MS);
    let stderr = "";
    const reader = proc.stderr.getReader();
    while (!stderr.includes("\n")) {
      const { done, value } = await reader.read();
      if (done) break;
      stderr += new TextDecoder().decode(value);
    }
    expect(stderr).toBe(`execbox: ${STDIN_EOF_WARNING}\n`);
    proc.kill("SIGINT");
    const [stdout, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
    clearTimeout(timer);
    expect([stdout, code]).toEqual(["", 130]);
  });

  test("a command that does not wait for stdin: no warning", async () => {
    expect(await runCliPiped(["exec", "--url", ref!.url, "--", "echo", "hi"], "ignored\n")).toEqual({ stdout: "hi\n", stderr: "", code: 0 });
  });

  test("execbox kill: TERM is refused with the reason (exit 1); KILL goes as process/terminate", async () => {
    const { session, processId } = await leaveRunning(ref!.url, "while :; do read -t 0.05 _; done");
    const kill = (...flags: string[]) => runCli(["kill", "--url", ref!.url, "--session", session, ...flags, processId]);
    const term = await kill();
    expect(term).toEqual({
      stdout: "",
      stderr: "execbox: signal TERM needs the executor's `signals` extension, which it does not advertise (the reference's protocol has no way to do it); only INT and KILL can be sent to it\n",
      code: 1,
    });
    expect(await kill("--signal", "SIGKILL")).toEqual({ stdout: "", stderr: "", code: 0 });
    await waitUntil(async () => (await kill("--signal", "KILL")).stderr === `execbox: process ${processId} has already exited (exit code 137)\n`, 10_000, "killed");
  });
});
