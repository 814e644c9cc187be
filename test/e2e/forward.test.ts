/**
 * `execbox forward` (the compiled binary when EXECBOX_BIN is set) against a
 * real executor and real services on 127.0.0.1: many local connections at
 * once, byte-exact; the remote port going away mid-transfer; refusals; and
 * against the reference, which has no tunnels, a fast one-line failure.
 */
import { afterEach, expect, setDefaultTimeout, test } from "bun:test";
import { createHash } from "node:crypto";
import type { Socket } from "bun";
import { runCli } from "../helpers/cli.ts";
import { readFirstLine } from "../helpers/first-line.ts";
import { referenceForTests } from "../helpers/reference-bin.ts";
import { execboxCommand, startServer } from "../helpers/server.ts";
import { startTarget } from "../helpers/tunnel-target.ts";
import { waitUntil } from "../helpers/wait.ts";
import { writeQueued } from "../../src/tunnel/write-queue.ts";

setDefaultTimeout(60_000);

const MiB = 1 << 20;
const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function executorUrl(): Promise<string> {
  const server = await startServer();
  cleanups.push(() => server.stop("SIGKILL"));
  return server.url;
}

/** Starts `execbox forward --url URL SPEC` and returns its local port and stderr. */
async function forward(url: string, spec: string) {
  const proc = Bun.spawn([...execboxCommand(), "forward", "--url", url, spec], { stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  cleanups.push(() => {
    proc.kill("SIGKILL");
    return proc.exited;
  });
  let stderr = "";
  void (async () => {
    for await (const c of proc.stderr) stderr += new TextDecoder().decode(c);
  })();
  const line = await readFirstLine(proc.stdout, 15_000);
  const port = Number(/^listening on 127\.0\.0\.1:(\d+)$/.exec(line.trim())?.[1]);
  expect(port).toBeGreaterThan(0);
  return { proc, port, stderr: () => stderr };
}

type Exchange = { received: number; hash: ReturnType<typeof createHash>; closed: boolean; queue: Uint8Array[]; eofAfterQueue: boolean };

/** A local connection to `port` that sends `bytes` (then EOF) and collects what comes back. */
async function exchange(port: number, bytes: Uint8Array): Promise<Exchange & { done: Promise<void> }> {
  let finish!: () => void;
  const done = new Promise<void>((r) => (finish = r));
  const state: Exchange = { received: 0, hash: createHash("sha256"), closed: false, queue: [bytes], eofAfterQueue: true };
  const flush = (socket: Socket<undefined>) => {
    if (writeQueued(socket, state.queue) && state.eofAfterQueue) {
      state.eofAfterQueue = false;
      socket.shutdown();
    }
  };
  await Bun.connect({
    hostname: "127.0.0.1",
    port,
    allowHalfOpen: true,
    socket: {
      open: flush,
      drain: flush,
      data(_s, data) {
        state.received += data.byteLength;
        state.hash.update(data);
      },
      close() {
        state.closed = true;
        finish();
      },
    },
  });
  return { ...state, done, get received() { return state.received; }, get closed() { return state.closed; } };
}

test("32 local connections at once, 1 MiB each way each, byte-exact through one executor connection", async () => {
  const remote = startTarget({ echo: true });
  cleanups.push(remote.stop);
  const fwd = await forward(await executorUrl(), `0:127.0.0.1:${remote.port}`);
  const payloads = Array.from({ length: 32 }, () => crypto.getRandomValues(new Uint8Array(MiB)));
  const runs = await Promise.all(payloads.map((p) => exchange(fwd.port, p)));
  await Promise.all(runs.map((r) => r.done));
  for (const [i, run] of runs.entries()) {
    expect(run.received).toBe(MiB);
    expect(run.hash.digest("hex")).toBe(createHash("sha256").update(payloads[i]!).digest("hex"));
  }
  expect(remote.conns.length).toBe(32);
  expect(fwd.stderr()).toBe("");
});

test("the remote port resetting mid-transfer closes the local connection, says why, and later connections still work", async () => {
  const remote = startTarget({
    onData: (conn) => {
      if (conn.received >= MiB && remote.conns.indexOf(conn) === 0) conn.socket.terminate();
    },
    echo: false,
  });
  cleanups.push(remote.stop);
  const fwd = await forward(await executorUrl(), `0:${remote.port}`);
  const run = await exchange(fwd.port, crypto.getRandomValues(new Uint8Array(32 * MiB)));
  await run.done;
  expect(run.closed).toBe(true);
  // Whether the executor's socket saw the reset as an error or as a close after FIN is the kernel's timing;
  // an error is reported, a close is not (it is how connections end).
  expect(fwd.stderr()).toMatch(new RegExp(`^(execbox: tunnel to 127\\.0\\.0\\.1:${remote.port} closed: (ECONNRESET: Connection reset by peer|EPIPE: Broken pipe)\\n)?$`));
  // The forwarder goes on serving.
  const next = await exchange(fwd.port, new TextEncoder().encode("again"));
  await waitUntil(() => remote.conns[1]?.received === 5 && remote.conns[1].eof, 10_000, "the next connection's bytes and EOF");
  remote.conns[1]!.socket.end();
  await next.done;
});

test("a refused remote host closes the local connection with the executor's reason; SIGTERM exits 0", async () => {
  const fwd = await forward(await executorUrl(), "0:10.0.0.1:80");
  const run = await exchange(fwd.port, new TextEncoder().encode("hello"));
  await run.done;
  expect(run.received).toBe(0);
  await waitUntil(() => fwd.stderr().includes("\n"), 10_000, "the forwarder's report");
  expect(fwd.stderr()).toBe(
    "execbox: cannot open a tunnel to 10.0.0.1:80: tunnel/open host `10.0.0.1` is not allowed: tunnels reach only loopback (127.0.0.0/8, ::1, localhost) on this executor\n",
  );
  fwd.proc.kill("SIGTERM");
  expect(await fwd.proc.exited).toBe(0);
});

test("malformed forwarding specs are usage errors (exit 2)", async () => {
  for (const spec of ["8080", "x:80", "8080:host:0", "70000:80", "8080:a:b:80"]) {
    expect(await runCli(["forward", "--url", "ws://127.0.0.1:1", spec])).toEqual({
      stdout: "",
      stderr: `Error: invalid forwarding '${spec}'; expected LOCAL_PORT:[REMOTE_HOST:]REMOTE_PORT (ports 1-65535; local 0 picks a free one)\n`,
      code: 2,
    });
  }
});

const reference = referenceForTests();
test.skipIf(reference === null)("against the reference (no tunnel extension): one line and exit 1, at once", async () => {
  const server = await startServer([], { command: [reference!, "exec-server"] });
  cleanups.push(() => server.stop("SIGKILL"));
  const started = Date.now();
  const r = await runCli(["forward", "--url", server.url, "0:80"]);
  expect(r).toEqual({
    stdout: "",
    stderr: `execbox: the executor at ${server.url} does not support port forwarding (it does not advertise the \`tunnel\` extension)\n`,
    code: 1,
  });
  expect(Date.now() - started).toBeLessThan(5_000);
});

test("a local client that sends its bytes, EOF and closes at once loses nothing: the port gets every byte, then EOF", async () => {
  const TOTAL = 32 * MiB;
  // A slow port, so most bytes are still queued on the way when the local socket is gone.
  const remote = startTarget({ slow: { everyBytes: 4 * MiB, pauseMs: 100 } });
  cleanups.push(remote.stop);
  const { port } = await forward(await executorUrl(), `0:127.0.0.1:${remote.port}`);
  const bytes = crypto.getRandomValues(new Uint8Array(TOTAL));
  let closed = false;
  const queue = [bytes];
  const send = (socket: Socket<undefined>) => {
    // All taken: EOF and close (end), without waiting for anything back.
    if (writeQueued(socket, queue)) socket.end();
  };
  await Bun.connect({ hostname: "127.0.0.1", port, socket: { open: send, drain: send, data() {}, close: () => void (closed = true) } });
  await waitUntil(() => closed, 30_000, "the local side to send everything and close");
  // Before, the local close closed the tunnel at once and the executor dropped what it still held for the port.
  await waitUntil(() => remote.conns[0]?.eof === true, 30_000, "EOF at the port");
  expect(remote.conns[0]!.received).toBe(TOTAL);
  expect(remote.conns[0]!.receivedHash.digest("hex")).toBe(createHash("sha256").update(bytes).digest("hex"));
});

test("a local client that sends EOF and closes while the port keeps sending: the forwarder closes the tunnel (as TCP resets a closed socket), the port's connection ends", async () => {
  // The port sends without end and never closes on its own.
  const remote = startTarget({ send: 8 * MiB });
  cleanups.push(remote.stop);
  const { port } = await forward(await executorUrl(), `0:127.0.0.1:${remote.port}`);
  let closed = false;
  await Bun.connect({ hostname: "127.0.0.1", port, socket: { open: (s) => void (s.write("x"), s.end()), data() {}, close: () => void (closed = true) } });
  await waitUntil(() => closed && remote.conns[0]?.received === 1, 10_000, "the local side to close, its byte at the port");
  // Before, the port's bytes waited for a closed socket to drain: the tunnel stayed open, the port paused, for ever.
  await waitUntil(() => remote.conns[0]!.closed, 10_000, "the port's connection to be closed");
});
