/**
 * Port forwarding through a real executor (EXECBOX_BIN when set) to real
 * TCP services on 127.0.0.1: bytes exact both ways, bounded in flight with
 * slow readers on either side, half-close, the remote side closing, and every
 * refusal with its exact error.
 */
import { afterEach, expect, setDefaultTimeout, test } from "bun:test";
import { createHash } from "node:crypto";
import { type ExecboxClient, ExecboxRpcError, type RemoteTunnel, connectStdio, connectWebSocket } from "../../src/client/index.ts";
import {
  MAX_TUNNEL_CHUNK_BYTES,
  MAX_TUNNELS_PER_CONNECTION,
  TUNNEL_UNWRITTEN_BYTES_PER_CONNECTION,
  TUNNEL_WINDOW_BYTES,
  TUNNEL_WRITE_WINDOW_BYTES,
} from "../../src/tunnel/limits.ts";
import { RawClient } from "../helpers/rpc-client.ts";
import { type RunningServer, execboxCommand, startServer } from "../helpers/server.ts";
import { startTarget } from "../helpers/tunnel-target.ts";
import { waitUntil } from "../helpers/wait.ts";

setDefaultTimeout(120_000);

const MiB = 1 << 20;
/**
 * What may be in flight between a sender and a slow reader: the window (or
 * one write chunk) the executor holds, plus the kernel's buffers of the two
 * loopback sockets on the way (a few MiB each with autotuning).
 */
const IN_FLIGHT_BOUND = 24 * MiB;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function executor(): Promise<{ server: RunningServer; client: ExecboxClient }> {
  const server = await startServer();
  cleanups.push(() => void server.stop("SIGKILL"));
  const client = await connectWebSocket(server.url);
  cleanups.push(() => client.close());
  return { server, client };
}

function target(options: Parameters<typeof startTarget>[0] = {}) {
  const t = startTarget(options);
  cleanups.push(t.stop);
  return t;
}

/** Writes `total` random bytes in 256 KiB writes; returns their hash. */
async function sendRandom(tunnel: RemoteTunnel, total: number, afterWrite: (written: number) => void = () => {}): Promise<string> {
  const hash = createHash("sha256");
  for (let written = 0; written < total; ) {
    const block = crypto.getRandomValues(new Uint8Array(Math.min(256 * 1024, total - written)));
    hash.update(block);
    await tunnel.write(block);
    written += block.byteLength;
    afterWrite(written);
  }
  return hash.digest("hex");
}

/** Waits until the bytes written stop growing for 100 ms (the writer is blocked); returns how many went. */
async function writesBlocked(written: () => number): Promise<number> {
  let last = -1;
  await waitUntil(async () => {
    const still = written() === last;
    last = written();
    await Bun.sleep(100);
    return still && last > 0;
  }, 20_000, "the writes to block");
  return last;
}

/** Collects the tunnel's bytes into a hash; `slow`: pause `pauseMs` every `everyBytes` (a slow reader). */
function receive(tunnel: RemoteTunnel, slow?: { everyBytes: number; pauseMs: number }, onChunk: (received: number) => void = () => {}) {
  const hash = createHash("sha256");
  const state = { received: 0, eof: false };
  let sinceSlow = 0;
  tunnel.onData(async (chunk) => {
    hash.update(chunk);
    state.received += chunk.byteLength;
    onChunk(state.received);
    sinceSlow += chunk.byteLength;
    if (slow && sinceSlow >= slow.everyBytes) {
      sinceSlow = 0;
      await Bun.sleep(slow.pauseMs);
    }
  });
  tunnel.onEof(() => (state.eof = true));
  return { state, digest: () => hash.digest("hex") };
}

test.each([true, false])("100 MiB each way, byte-exact, with a slow reader on each side: in flight stays bounded both ways (binary frames: %p)", async (binary) => {
  const TOTAL = 100 * MiB;
  const remote = target({ send: TOTAL, endAfterSend: true, slow: { everyBytes: MiB, pauseMs: 25 } });
  const { client } = await executor();
  const tunnel = await client.openTunnel({ port: remote.port, binary });
  expect(tunnel.binary).toBe(binary);
  let maxDown = 0;
  let maxUp = 0;
  const conn = () => remote.conns[0]!;
  const down = receive(tunnel, { everyBytes: MiB, pauseMs: 25 }, (received) => (maxDown = Math.max(maxDown, conn().sent - received)));
  const sentHash = await sendRandom(tunnel, TOTAL, (written) => (maxUp = Math.max(maxUp, written - conn().received)));
  await tunnel.end();
  const end = await tunnel.closed;
  expect(end).toEqual({ reason: "remoteClosed", error: null });
  expect(down.state).toEqual({ received: TOTAL, eof: true });
  expect(down.digest()).toBe(conn().sentHash.digest("hex"));
  await waitUntil(() => conn().received === TOTAL, 10_000, "the target to read everything");
  expect(conn().receivedHash.digest("hex")).toBe(sentHash);
  // Remote → client: the executor paused the port at the window, so the slow handler never had 100 MiB piled up.
  expect(maxDown).toBeLessThan(IN_FLIGHT_BOUND);
  expect(maxDown).toBeGreaterThan(TUNNEL_WINDOW_BYTES / 2);
  // Client → remote: the client sent only as much as tunnel/written let it.
  expect(maxUp).toBeLessThan(IN_FLIGHT_BOUND);
});

test("a client that stops consuming stops the remote port at the window, and resumes it", async () => {
  const TOTAL = 64 * MiB;
  const remote = target({ send: TOTAL, endAfterSend: true });
  const { client } = await executor();
  const tunnel = await client.openTunnel({ port: remote.port });
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  let received = 0;
  tunnel.onData(async (chunk) => {
    received += chunk.byteLength;
    if (received >= MiB) await held;
  });
  await waitUntil(() => remote.conns[0] !== undefined && received >= MiB, 10_000, "the first MiB");
  // The target's sent count stops moving well short of TOTAL: the executor paused the port.
  let last = -1;
  await waitUntil(async () => {
    const now = remote.conns[0]!.sent;
    const still = now === last;
    last = now;
    await Bun.sleep(100);
    return still;
  }, 20_000, "the target to block");
  expect(last).toBeLessThan(IN_FLIGHT_BOUND);
  release();
  await waitUntil(() => received === TOTAL, 20_000, "the rest of the bytes");
  await tunnel.end();
  expect(await tunnel.closed).toEqual({ reason: "remoteClosed", error: null });
  expect(received).toBe(TOTAL);
});

test("a port that stops reading stops the client's writes (at the executor's write window), and resumes them", async () => {
  const TOTAL = 64 * MiB;
  const remote = target({ startPaused: true });
  const { client } = await executor();
  const tunnel = await client.openTunnel({ port: remote.port });
  let written = 0;
  const sending = sendRandom(tunnel, TOTAL, (n) => (written = n));
  const last = await writesBlocked(() => written);
  expect(last).toBeLessThan(IN_FLIGHT_BOUND);
  remote.conns[0]!.socket.resume();
  const sentHash = await sending;
  await waitUntil(() => remote.conns[0]!.received === TOTAL, 20_000, "the target to read everything");
  expect(remote.conns[0]!.receivedHash.digest("hex")).toBe(sentHash);
});

test("a port that stops reading holds no request: the connection's other calls and tunnels go on (one request at a time)", async () => {
  const stuck = target({ startPaused: true });
  const other = target({ send: MiB, endAfterSend: true });
  const { client } = await executor();
  const blocked = await client.openTunnel({ port: stuck.port });
  let written = 0;
  const sending = sendRandom(blocked, 64 * MiB, (n) => (written = n));
  sending.catch(() => {});
  await writesBlocked(() => written);
  // Before, the unanswered tunnel/write held the connection's only request slot: these never came back.
  expect(await client.call("environment/status", {}, { timeoutMs: 5_000 })).toEqual({ status: "ready" });
  const second = await client.openTunnel({ port: other.port });
  const down = receive(second);
  await second.end();
  expect(await second.closed).toEqual({ reason: "remoteClosed", error: null });
  expect(down.state.received).toBe(MiB);
  // A client that ignores the window is refused, not buffered without bound.
  const raw = await RawClient.websocket((await executor()).server.url);
  cleanups.push(() => raw.close());
  await raw.initialize();
  const stuck2 = target({ startPaused: true });
  const { tunnelId } = await raw.ok("tunnel/open", { port: stuck2.port });
  const chunk = Buffer.alloc(MAX_TUNNEL_CHUNK_BYTES, 1).toString("base64");
  let refused: unknown = null;
  for (let i = 0; i < 64 && refused === null; i++) {
    const r = await raw.call("tunnel/write", { tunnelId, chunk });
    if (r.error) refused = r.error;
  }
  expect(refused).toEqual({ code: -32600, message: `tunnel/write would leave more than ${TUNNEL_WRITE_WINDOW_BYTES} bytes unwritten on tunnel ${tunnelId}: send only as much more as tunnel/written reports` });
  await blocked.close();
});

test("ports that stop reading hold at most the connection's share: past it the executor stops reading the connection, and resumes once they read", async () => {
  // Each tunnel may hold a write window; enough of them to pass the connection's share.
  const tunnels = TUNNEL_UNWRITTEN_BYTES_PER_CONNECTION / TUNNEL_WRITE_WINDOW_BYTES + 2;
  const stuck = target({ startPaused: true });
  const { client } = await executor();
  let written = 0;
  const sendings: Promise<string>[] = [];
  for (let i = 0; i < tunnels; i++) {
    const tunnel = await client.openTunnel({ port: stuck.port });
    sendings.push(sendRandom(tunnel, 16 * MiB, () => (written += 256 * 1024)));
  }
  await writesBlocked(() => written);
  // Before, every window was held (128 MiB a connection with 64 tunnels) and this was answered at once.
  await expect(client.call("environment/status", {}, { timeoutMs: 1_000 })).rejects.toThrow("environment/status: no response within 1000 ms");
  for (const conn of stuck.conns) conn.socket.resume();
  const hashes = await Promise.all(sendings);
  await waitUntil(() => stuck.conns.every((c) => c.received === 16 * MiB), 20_000, "the target to read everything");
  expect(stuck.conns.map((c) => c.receivedHash.digest("hex")).sort()).toEqual([...hashes].sort());
  expect(await client.call("environment/status", {})).toEqual({ status: "ready" });
});

test("over stdio too: 8 MiB each way byte-exact through the same connection core", async () => {
  const TOTAL = 8 * MiB;
  const remote = target({ send: TOTAL, endAfterSend: true });
  const client = await connectStdio(execboxCommand());
  cleanups.push(() => client.close());
  const tunnel = await client.openTunnel({ host: "localhost", port: remote.port });
  const down = receive(tunnel);
  const sentHash = await sendRandom(tunnel, TOTAL);
  await tunnel.end();
  expect(await tunnel.closed).toEqual({ reason: "remoteClosed", error: null });
  expect(down.state).toEqual({ received: TOTAL, eof: true });
  expect(down.digest()).toBe(remote.conns[0]!.sentHash.digest("hex"));
  await waitUntil(() => remote.conns[0]!.received === TOTAL, 10_000, "the target to read everything");
  expect(remote.conns[0]!.receivedHash.digest("hex")).toBe(sentHash);
});

test("half-close: the client's EOF reaches the port, which still answers before closing", async () => {
  const replies: string[] = [];
  const remote = target({
    onData: (_conn, data) => replies.push(Buffer.from(data).toString()),
  });
  const { client } = await executor();
  const tunnel = await client.openTunnel({ host: "127.0.0.1", port: remote.port });
  let text = "";
  tunnel.onData((chunk) => void (text += Buffer.from(chunk).toString()));
  await tunnel.write(new TextEncoder().encode("question"));
  await tunnel.end();
  await waitUntil(() => remote.conns[0]?.eof === true, 10_000, "EOF at the target");
  expect(replies.join("")).toBe("question");
  remote.conns[0]!.socket.write("answer after EOF");
  remote.conns[0]!.socket.end();
  expect(await tunnel.closed).toEqual({ reason: "remoteClosed", error: null });
  expect(text).toBe("answer after EOF");
});

test("the remote port finishing mid-transfer: every byte it sent arrives, then tunnel/eof; the client's EOF ends the tunnel", async () => {
  // Under the window, so this raw client need not acknowledge.
  const SENT = MiB + 5;
  const remote = target({ send: SENT, endAfterSend: true });
  const raw = await RawClient.websocket((await executor()).server.url);
  cleanups.push(() => raw.close());
  await raw.initialize();
  const { tunnelId } = await raw.ok("tunnel/open", { port: remote.port });
  await raw.waitFor((f) => f.method === "tunnel/eof", 20_000, "tunnel/eof");
  // Half-open: the executor's side may still write, until the client sends EOF too.
  expect(await raw.ok("tunnel/write", { tunnelId, chunk: Buffer.from("late").toString("base64"), eof: true })).toEqual({});
  const closed = await raw.waitFor((f) => f.method === "tunnel/closed", 20_000, "tunnel/closed");
  await waitUntil(() => remote.conns[0]!.eof, 10_000, "EOF at the target");
  expect(remote.conns[0]!.received).toBe(4);
  expect(closed.params).toEqual({ tunnelId, reason: "remoteClosed", error: null });
  const events = raw.frames.filter((f) => f.method?.startsWith("tunnel/"));
  const data = events.filter((f) => f.method === "tunnel/data");
  expect(data.map((f) => f.params.seq)).toEqual(data.map((_, i) => i + 1));
  const digest = createHash("sha256");
  for (const f of data) digest.update(Buffer.from(f.params.chunk, "base64"));
  expect(data.reduce((n, f) => n + Buffer.from(f.params.chunk, "base64").byteLength, 0)).toBe(SENT);
  expect(digest.digest("hex")).toBe(remote.conns[0]!.sentHash.digest("hex"));
  expect(events.slice(-3).map((f) => f.method)).toEqual(["tunnel/eof", "tunnel/written", "tunnel/closed"]);
  // The late write's 4 bytes, reported once the socket took them.
  expect(events.at(-2)!.params).toEqual({ tunnelId, bytes: 4 });
  // The tunnel is gone: its id is unknown now.
  expect((await raw.call("tunnel/write", { tunnelId, chunk: "" })).error).toEqual({ code: -32600, message: `unknown tunnel id ${tunnelId}` });
});

test("a port's EOF does not hold up the tunnel's end when nobody listens for data (and onEof set late still fires)", async () => {
  const remote = target({ send: 0, endAfterSend: true });
  const { client } = await executor();
  const tunnel = await client.openTunnel({ port: remote.port });
  await waitUntil(() => remote.conns[0] !== undefined, 10_000, "the connection at the target");
  await tunnel.end();
  expect(await tunnel.closed).toEqual({ reason: "remoteClosed", error: null });
  let eof = false;
  tunnel.onEof(() => (eof = true));
  expect(eof).toBe(true);
});

test.each([true, false])("the remote port resetting while the client writes: tunnel/closed says why and the pending write fails (binary: %p)", async (binary) => {
  // The port reads nothing, so bytes wait unread in its socket when it goes: its close is a reset, never a FIN
  // (a port that had read everything would close cleanly, and the executor's next write would meet the reset).
  const remote = target({ startPaused: true });
  const { client } = await executor();
  const tunnel = await client.openTunnel({ port: remote.port, binary });
  let written = 0;
  const writing = sendRandom(tunnel, 64 * MiB, (n) => (written = n)).then(
    () => "finished",
    (e: Error) => e.message,
  );
  // Past the write window, the executor's socket has taken bytes: they are in the port's buffers.
  await waitUntil(() => written > 2 * TUNNEL_WRITE_WINDOW_BYTES, 30_000, "writes past the window");
  remote.conns[0]!.socket.terminate();
  const end = await tunnel.closed;
  expect(end.reason).toBe("error");
  // Bun names the reset only when a read or write meets it; else the bytes the port never took say it.
  expect(end.error).toMatch(/^(ECONNRESET: Connection reset by peer|EPIPE: Broken pipe|the port closed before taking \d+ written bytes)$/);
  expect(await writing).toMatch(/^unknown tunnel id \S+$/);
});

test("refusals: a host that is not loopback, a closed port, an unknown id, a chunk or ack too large", async () => {
  const { client } = await executor();
  const refusal = (p: Promise<unknown>) => p.then(() => "opened", (e: ExecboxRpcError) => ({ code: e.code, message: e.message }));
  for (const host of ["10.0.0.1", "example.com", "0.0.0.0", "::ffff:192.168.1.1"]) {
    expect(await refusal(client.openTunnel({ host, port: 80 }))).toEqual({
      code: -32602,
      message: `tunnel/open host \`${host}\` is not allowed: tunnels reach only loopback (127.0.0.0/8, ::1, localhost) on this executor`,
    });
  }
  const closed = target();
  const port = closed.port;
  closed.stop();
  expect(await refusal(client.openTunnel({ port }))).toEqual({
    code: -32603,
    message: `tunnel/open cannot connect to 127.0.0.1:${port}: ECONNREFUSED: Connection refused`,
  });
  expect(await refusal(client.call("tunnel/write", { tunnelId: "nope", chunk: "" }))).toEqual({ code: -32600, message: "unknown tunnel id nope" });
  const remote = target();
  const { tunnelId } = await client.call("tunnel/open", { port: remote.port });
  const tooBig = Buffer.alloc(MAX_TUNNEL_CHUNK_BYTES + 1).toString("base64");
  expect(await refusal(client.call("tunnel/write", { tunnelId, chunk: tooBig }))).toEqual({
    code: -32602,
    message: `tunnel/write chunk of ${MAX_TUNNEL_CHUNK_BYTES + 1} bytes exceeds the limit of ${MAX_TUNNEL_CHUNK_BYTES} bytes`,
  });
  expect(await refusal(client.call("tunnel/ack", { tunnelId, bytes: 1 }))).toEqual({
    code: -32602,
    message: "tunnel/ack of 1 bytes exceeds the 0 bytes sent and not acknowledged",
  });
  expect(await refusal(client.call("tunnel/open", { port: 0 }))).toEqual({ code: -32602, message: "invalid value: port must be 1..65535" });
});

test(`at most ${MAX_TUNNELS_PER_CONNECTION} tunnels per connection; closing one makes room; closing the connection closes them all`, async () => {
  const remote = target();
  const { server } = await executor();
  const raw = await RawClient.websocket(server.url);
  cleanups.push(() => raw.close());
  await raw.initialize();
  const ids: string[] = [];
  for (let i = 0; i < MAX_TUNNELS_PER_CONNECTION; i++) ids.push((await raw.ok("tunnel/open", { port: remote.port })).tunnelId);
  expect((await raw.call("tunnel/open", { port: remote.port })).error).toEqual({
    code: -32600,
    message: `tunnel/open refused: this connection already has ${MAX_TUNNELS_PER_CONNECTION} open tunnels`,
  });
  expect(await raw.ok("tunnel/close", { tunnelId: ids.pop() })).toEqual({});
  const closed = await raw.waitFor((f) => f.method === "tunnel/closed", 10_000, "tunnel/closed");
  expect(closed.params.reason).toBe("clientClosed");
  ids.push((await raw.ok("tunnel/open", { port: remote.port })).tunnelId);
  await waitUntil(() => remote.conns.filter((c) => !c.closed).length === MAX_TUNNELS_PER_CONNECTION, 10_000, "the open tunnels at the target");
  raw.close();
  await waitUntil(() => remote.conns.every((c) => c.closed), 10_000, "every tunnel closed with the connection");
});
