/** The compiled single-file executable, end to end: CLI, WebSocket, stdio, shutdown. */
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { compiledBinary } from "../helpers/binary.ts";
import { RawClient } from "../helpers/rpc-client.ts";
import { waitUntil } from "../helpers/wait.ts";
import { tempDir } from "../helpers/server.ts";

// Integration tests start real servers and processes; each wait inside has its own deadline.
setDefaultTimeout(30_000);

let bin: string;
const dir = tempDir();
const ENV = { PATH: "/usr/bin:/bin" };

beforeAll(async () => {
  bin = await compiledBinary();
}, 120_000);
afterAll(() => dir[Symbol.dispose]());

async function run(args: string[]) {
  const proc = Bun.spawn([bin, ...args], { stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { stdout, stderr, code };
}

async function startBinary(args: string[]) {
  const proc = Bun.spawn([bin, ...args], { stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  const reader = proc.stdout.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { done, value } = await reader.read();
    if (done) throw new Error("binary exited before printing its URL");
    text += new TextDecoder().decode(value);
  }
  return { proc, url: text.trim() };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("CLI", () => {
  test("--version and --help", async () => {
    const v = await run(["--version"]);
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(/^execbox \d+\.\d+\.\d+ \(codex exec-server protocol 0\.171\.0\)\n$/);
    const h = await run(["--help"]);
    expect(h.code).toBe(0);
    expect(h.stdout).toContain("--listen <URL>");
  });

  test("invalid --listen values are refused with the reference's texts (wss:// added)", async () => {
    const cases: [string, string][] = [
      ["http://127.0.0.1:0", "Error: unsupported --listen URL `http://127.0.0.1:0`; expected `ws://IP:PORT`, `wss://IP:PORT` or `stdio`\n"],
      ["wss://127.0.0.1", "Error: invalid websocket --listen URL `wss://127.0.0.1`; expected `wss://IP:PORT`\n"],
      ["ws://localhost:0", "Error: invalid websocket --listen URL `ws://localhost:0`; expected `ws://IP:PORT`\n"],
      ["ws://127.0.0.1:0/x", "Error: invalid websocket --listen URL `ws://127.0.0.1:0/x`; expected `ws://IP:PORT`\n"],
      ["ws://127.0.0.1", "Error: invalid websocket --listen URL `ws://127.0.0.1`; expected `ws://IP:PORT`\n"],
    ];
    for (const [url, message] of cases) {
      const r = await run(["--listen", url]);
      expect([r.code, r.stderr, r.stdout]).toEqual([1, message, ""]);
    }
    const zero = await run(["--concurrent-requests", "0"]);
    expect(zero.code).toBe(2);
    expect(zero.stderr).toContain("number would be zero for non-zero type");
  });

  test("a busy port is one line naming the URL and the OS's reason, exit 1 (no dump of bundled source)", async () => {
    const holder = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    try {
      const r = await run(["--listen", `ws://127.0.0.1:${holder.port}`]);
      expect([r.code, r.stderr, r.stdout]).toEqual([1, `Error: cannot listen on ws://127.0.0.1:${holder.port}: Address in use (os error 98)\n`, ""]);
    } finally {
      holder.stop(true);
    }
  });
});

describe("WebSocket", () => {
  test("exec-server alias, IPv6 loopback, a process end to end, SIGTERM kills processes and exits 0", async () => {
    const { proc, url } = await startBinary(["exec-server", "--listen", "ws://[::1]:0"]);
    try {
      expect(url).toMatch(/^ws:\/\/\[::1\]:\d+$/);
      const c = await RawClient.websocket(url);
      await c.initialize();
      await c.ok("process/start", { processId: "a", argv: ["sh", "-c", "echo hi; exit 7"], cwd: dir.uri, env: ENV, tty: false });
      const events = await c.processDone("a");
      expect(events.map((e) => e.method)).toEqual(["process/output", "process/exited", "process/closed"]);
      expect(events[1]!.params.exitCode).toBe(7);
      const pidFile = `${dir.path}/long.pid`;
      await c.ok("process/start", { processId: "long", argv: ["sh", "-c", `echo $$ > ${pidFile}; exec sleep 300`], cwd: dir.uri, env: ENV, tty: false });
      await waitUntil(() => Bun.file(pidFile).size > 0, 10_000, "pid file");
      const pid = Number((await Bun.file(pidFile).text()).trim());
      expect(isAlive(pid)).toBe(true);
      proc.kill("SIGTERM");
      expect(await proc.exited).toBe(0);
      expect(isAlive(pid)).toBe(false);
    } finally {
      proc.kill("SIGKILL");
    }
  });
});

describe("stdio", () => {
  test("newline-delimited JSON; blank lines and CRLF tolerated; EOF kills processes and exits 0", async () => {
    const proc = Bun.spawn([bin, "--listen", "stdio"], { stdin: "pipe", stdout: "pipe", stderr: "pipe" });
    try {
      const pidFile = `${dir.path}/stdio.pid`;
      const lines = [
        JSON.stringify({ id: 1, method: "initialize", params: { clientName: "e2e" } }),
        "",
        "   ",
        `${JSON.stringify({ method: "initialized" })}\r`,
        JSON.stringify({ id: 2, method: "process/start", params: { processId: "s", argv: ["sh", "-c", `echo $$ > ${pidFile}; exec sleep 300`], cwd: dir.uri, env: ENV, tty: false } }),
        "{bad",
      ];
      proc.stdin.write(lines.join("\n") + "\n");
      proc.stdin.write(JSON.stringify({ id: 3, method: "environment/status" })); // no final newline
      await proc.stdin.flush();
      await waitUntil(() => Bun.file(pidFile).size > 0, 10_000, "pid file");
      const pid = Number((await Bun.file(pidFile).text()).trim());
      proc.stdin.end();
      expect(await proc.exited).toBe(0);
      const out = (await new Response(proc.stdout).text()).trim().split("\n").map((l) => JSON.parse(l));
      expect(out.map((f) => f.id ?? f.method)).toEqual([1, 2, -1, 3]);
      expect(out[2].error.message).toBe("failed to parse JSON-RPC message from exec-server stdio: key must be a string at line 1 column 2");
      expect(out[3]).toEqual({ id: 3, result: { status: "ready" } });
      expect(isAlive(pid)).toBe(false);
    } finally {
      proc.kill("SIGKILL");
    }
  });
});
