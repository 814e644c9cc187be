/** The TypeScript client against real executors: typed calls, errors, timeouts, processes, auth, stdio. */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  type ClientState,
  type ExecboxClient,
  ExecboxConnectionError,
  ExecboxRpcError,
  ExecboxTimeoutError,
  type ProcessEvent,
  connectStdio,
  connectWebSocket,
} from "../../src/client/index.ts";
import { type RunningServer, execboxCommand, startServer, tempDir } from "../helpers/server.ts";
import { waitUntil } from "../helpers/wait.ts";
import { PROTOCOL_VERSION } from "../../src/version.ts";

// Integration tests start real servers and processes; each wait inside has its own deadline.
setDefaultTimeout(30_000);

const ENV = { PATH: "/usr/bin:/bin" };
const dir = tempDir();
let server: RunningServer;
let client: ExecboxClient;

beforeAll(async () => {
  server = await startServer();
  client = await connectWebSocket(server.url, { clientName: "client-test" });
});
afterAll(async () => {
  await client?.close();
  // SIGTERM: the executor kills every process it still runs (detached sessions included) before exiting.
  await server?.stop("SIGTERM");
  dir[Symbol.dispose]();
});

const text = (b: Uint8Array) => Buffer.from(b).toString();
const sh = (script: string, extra: object = {}) => ({ argv: ["sh", "-c", script], cwd: dir.uri, env: ENV, tty: false, ...extra });

async function events(p: AsyncIterable<ProcessEvent>): Promise<ProcessEvent[]> {
  const all: ProcessEvent[] = [];
  for await (const e of p) all.push(e);
  return all;
}

describe("typed calls", () => {
  test("initialize happened: session id, environment info; results are schema-checked values", async () => {
    expect(client.state).toBe("connected");
    expect(client.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(client.environmentInfo.executorVersion).toBe(PROTOCOL_VERSION);
    const info = await client.call("environment/info");
    expect(info.cwd).toBe(client.environmentInfo.cwd);
    expect(await client.call("environment/status", {})).toEqual({ status: "ready" });
    const path = `${dir.uri}/a.txt`;
    expect(await client.call("fs/writeFile", { path, dataBase64: Buffer.from("hi").toString("base64") })).toEqual({});
    expect(await client.call("fs/readFile", { path })).toEqual({ dataBase64: Buffer.from("hi").toString("base64") });
    expect((await client.call("fs/getMetadata", { path })).size).toBe(2);
  });

  test("JSON-RPC errors become ExecboxRpcError with code, message and method", async () => {
    const err = await client.call("fs/readFile", { path: `${dir.uri}/missing` }).catch((e) => e);
    expect(err).toBeInstanceOf(ExecboxRpcError);
    expect({ code: err.code, message: err.message, method: err.method }).toEqual({
      code: -32004,
      message: "No such file or directory (os error 2)",
      method: "fs/readFile",
    });
    const bad = await client.call("fs/readFile", { path: "relative" }).catch((e) => e);
    expect([bad.code, bad.message]).toEqual([-32602, "invalid URI: relative URL without a base"]);
    const unknown = await client.call("process/read", { processId: "nope" }).catch((e) => e);
    expect([unknown.code, unknown.method]).toEqual([-32600, "process/read"]);
  });

  test("a call with no answer in time rejects with ExecboxTimeoutError; later calls still work", async () => {
    const p = await client.startProcess(sh("sleep 5"));
    // With one request at a time, a long-poll read holds back the next request on this connection.
    const poll = client.call("process/read", { processId: p.id, afterSeq: 0, waitMs: 600 });
    const err = await client.call("environment/status", undefined, { timeoutMs: 100 }).catch((e) => e);
    expect(err).toBeInstanceOf(ExecboxTimeoutError);
    expect(err.method).toBe("environment/status");
    expect((await poll).exited).toBe(false);
    expect(await client.call("environment/status")).toEqual({ status: "ready" });
    expect(await p.terminate()).toBe(true);
    expect(await p.closed).toBe(137);
  });
});

describe("processes", () => {
  test("events arrive in seq order, stdout and stderr apart, closed last with the exit code", async () => {
    const p = await client.startProcess(sh("printf out; printf err >&2; printf more; exit 7"));
    const all = await events(p);
    const seqs = all.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    expect(all.at(-1)!.type).toBe("closed");
    const joined = (s: string) => all.flatMap((e) => (e.type === "output" && e.stream === s ? [text(e.data)] : [])).join("");
    expect([joined("stdout"), joined("stderr")]).toEqual(["outmore", "err"]);
    expect(all.filter((e) => e.type === "exited")).toEqual([expect.objectContaining({ exitCode: 7 })]);
    expect([await p.exited, await p.closed, p.exitCode]).toEqual([7, 7, 7]);
  });

  test("5 MiB of output from several processes at once, each byte-exact and in order", async () => {
    const size = 5 * 1024 * 1024;
    const procs = await Promise.all(
      [0, 1, 2].map((i) => client.startProcess(sh(`head -c ${size} /dev/zero | tr '\\0' '${"abc"[i]}'`, { processId: `bulk-${i}` }))),
    );
    const results = await Promise.all(procs.map((p) => p.collect()));
    results.forEach((r, i) => {
      expect(r.stdout.byteLength).toBe(size);
      expect(r.stdout.every((b) => b === "abc".charCodeAt(i))).toBe(true);
      expect(r.exitCode).toBe(0);
    });
  });

  test("write (pipeStdin), interrupt → 130, tty output, terminate → 137", async () => {
    const cat = await client.startProcess(sh("cat", { pipeStdin: true }));
    expect(await cat.write("one\n")).toBe("accepted");
    expect(await cat.write(new TextEncoder().encode("two\n"))).toBe("accepted");
    const it = cat[Symbol.asyncIterator]();
    let seen = "";
    while (seen !== "one\ntwo\n") {
      const { value } = await it.next();
      if (value?.type === "output") seen += text(value.data);
    }
    await cat.interrupt();
    expect(await cat.closed).toBe(130);

    const tty = await client.startProcess({ argv: ["/bin/sh", "-c", "echo hi; sleep 5"], cwd: dir.uri, env: ENV, tty: true });
    const ttyIt = tty[Symbol.asyncIterator]();
    const first = (await ttyIt.next()).value as ProcessEvent;
    expect(first).toMatchObject({ type: "output", stream: "pty" });
    expect(await tty.terminate()).toBe(true);
    expect(await tty.closed).toBe(137);
    expect(await tty.terminate()).toBe(false);
  });

  test("a failed start rejects and leaves nothing tracked; the id can be used again", async () => {
    const err = await client.startProcess({ ...sh("true"), processId: "dup", cwd: `${dir.uri}/missing` }).catch((e) => e);
    expect(err).toBeInstanceOf(ExecboxRpcError);
    expect(err.code).toBe(-32603);
    const p = await client.startProcess({ ...sh("true"), processId: "dup" });
    expect(await p.closed).toBe(0);
  });
});

describe("authentication", () => {
  test("the token goes in the upgrade's Authorization header; a missing one is a clear connect error", async () => {
    writeFileSync(join(dir.path, "token"), "tok-1234567890abcdef\n", { mode: 0o600 });
    await using auth = await startServer(["--ws-auth", "capability-token", "--ws-token-file", join(dir.path, "token")]);
    const err = await connectWebSocket(auth.url).catch((e) => e);
    expect(err.message).toContain(`cannot connect to ${auth.url}`);
    expect(err.message).toContain("401");
    const ok = await connectWebSocket(auth.url, { token: "tok-1234567890abcdef" });
    expect(await ok.call("environment/status")).toEqual({ status: "ready" });
    await ok.close();
    expect(ok.state).toBe("closed");
    // An injected constructor (Node 20: `ws`) gets the same URL and headers.
    const seen: unknown[] = [];
    class Recording extends WebSocket {
      constructor(url: string, options: { headers: Record<string, string> }) {
        super(url, options as never);
        seen.push([url, options]);
      }
    }
    const injected = await connectWebSocket(auth.url, { token: "tok-1234567890abcdef", WebSocket: Recording as never });
    expect(seen).toEqual([[auth.url, { headers: { Authorization: "Bearer tok-1234567890abcdef" } }]]);
    await injected.close();
    await expect(ok.call("environment/status")).rejects.toBeInstanceOf(ExecboxConnectionError);
  });
});

describe("stdio", () => {
  test("spawns `--listen stdio`, runs a process, and close() ends the executor", async () => {
    const s = await connectStdio(execboxCommand(), { stderr: "ignore" });
    const states: ClientState[] = [];
    s.on("state", (st) => states.push(st));
    const p = await s.startProcess(sh("echo $((6*7)); exit 4"));
    const r = await p.collect();
    expect([text(r.stdout), r.exitCode]).toEqual(["42\n", 4]);
    const sleeper = await s.startProcess(sh("sleep 30"));
    await s.close();
    await expect(sleeper.closed).rejects.toBeInstanceOf(ExecboxConnectionError);
    expect(states).toEqual(["closed"]);
  });

  test("an executor that dies fails the client: no resume on stdio", async () => {
    const s = await connectStdio(execboxCommand(), { stderr: "ignore" });
    const failed = new Promise<Error | undefined>((r) => s.on("state", (st, e) => st === "failed" && r(e)));
    const p = await s.startProcess(sh("echo $PPID $$; exec sleep 30"));
    const it = p[Symbol.asyncIterator]();
    const first = (await it.next()).value as ProcessEvent & { type: "output" };
    const [executorPid, childPid] = text(first.data).trim().split(" ").map(Number);
    // The child's parent is the executor: kill it as a crash would, then the orphaned child's group.
    process.kill(executorPid!, "SIGKILL");
    process.kill(-childPid!, "SIGKILL");
    expect((await failed)?.message).toContain("lost");
    await expect(it.next()).rejects.toBeInstanceOf(ExecboxConnectionError);
    expect(s.state).toBe("failed");
    await s.close();
  });

  test("a command that cannot start rejects connectStdio", async () => {
    const err = await connectStdio([join(dir.path, "no-such-executor")]).catch((e) => e);
    expect(err.message).toContain("cannot start");
  });
});

test("closing the client rejects pending calls and running processes", async () => {
  const c = await connectWebSocket(server.url);
  const p = await c.startProcess(sh("sleep 30"));
  const closedP = p.closed.catch((e) => e);
  await c.close();
  expect(await closedP).toBeInstanceOf(ExecboxConnectionError);
  await waitUntil(async () => (await client.call("environment/status")).status === "ready", 5_000, "server still serving");
});
