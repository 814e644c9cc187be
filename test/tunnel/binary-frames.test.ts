/**
 * Binary tunnel frames (tunnel extension version 2) against a real executor
 * (EXECBOX_BIN when set): the client library's binary path, stdio's fallback
 * to base64, and every frame the executor must refuse — each closes the
 * connection with a code and a reason, and the executor goes on serving.
 */
import { afterEach, expect, setDefaultTimeout, test } from "bun:test";
import { connectStdio, connectWebSocket } from "../../src/client/index.ts";
import { TunnelFrameKind, encodeTunnelFrame } from "../../src/protocol/tunnel-frame.ts";
import { MAX_TUNNEL_CHUNK_BYTES, TUNNEL_WRITE_WINDOW_BYTES } from "../../src/tunnel/limits.ts";
import { referenceForTests } from "../helpers/reference-bin.ts";
import { RawClient } from "../helpers/rpc-client.ts";
import { RawWs } from "../helpers/raw-ws.ts";
import { type RunningServer, execboxCommand, startServer } from "../helpers/server.ts";
import { startTarget } from "../helpers/tunnel-target.ts";
import { waitUntil } from "../helpers/wait.ts";

setDefaultTimeout(60_000);

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function server(): Promise<RunningServer> {
  const s = await startServer();
  cleanups.push(() => void s.stop("SIGKILL"));
  return s;
}

async function raw(url: string): Promise<RawClient> {
  const c = await RawClient.websocket(url);
  cleanups.push(() => c.close());
  await c.initialize();
  return c;
}

function target(options: Parameters<typeof startTarget>[0] = {}) {
  const t = startTarget(options);
  cleanups.push(t.stop);
  return t;
}

const write = (tunnelId: string, payload: Uint8Array) => encodeTunnelFrame(TunnelFrameKind.write, tunnelId, payload);

/** Sends `frame` as a binary message and expects the connection closed with `code` and `reason`; then the executor still serves. */
async function refused(s: RunningServer, client: RawClient, frame: Uint8Array, code: number, reason: string): Promise<void> {
  client.ws!.send(frame);
  await client.waitClosed();
  expect({ code: client.closeCode, reason: client.closeReason }).toEqual({ code, reason });
  const next = await raw(s.url);
  expect((await next.call("environment/info", {})).result.extensions.tunnel).toBe(2);
}

test("tunnel/open with binary: true on the WebSocket answers binary: true; without it, nothing changes (no binary field)", async () => {
  const s = await server();
  const client = await raw(s.url);
  const port = target().port;
  expect(Object.keys(await client.ok("tunnel/open", { port, binary: true })).sort()).toEqual(["binary", "tunnelId"]);
  expect((await client.ok("tunnel/open", { port, binary: true })).binary).toBe(true);
  expect(Object.keys(await client.ok("tunnel/open", { port })).sort()).toEqual(["tunnelId"]);
});

/** What a binary message shaped like a tunnel write frame gets on a connection where no tunnel opted in, and that the connection then still serves. */
async function answerToFrameBeforeOptIn(s: RunningServer, openTunnel: boolean): Promise<unknown> {
  const client = await raw(s.url);
  if (openTunnel) await client.ok("tunnel/open", { port: target().port });
  client.ws!.send(write("t", new Uint8Array([1, 2, 3])));
  const answer = await client.waitFor((f) => f.id === -1, 10_000, "the parse error");
  expect(client.closeCode).toBeUndefined();
  // A binary message holding JSON is a request, as text is.
  client.ws!.send(new TextEncoder().encode(JSON.stringify({ id: "bin", method: "no/such", params: {} })));
  const unknown = await client.waitFor((f) => f.id === "bin", 10_000, "the answer to a binary request");
  await client.ok("environment/info", {});
  return [{ ...answer, error: { ...answer.error, message: answer.error.message.replace(/127\.0\.0\.1:\d+/, "PEER") } }, unknown];
}

const PARSE_ERROR = [
  {
    id: -1,
    error: { code: -32600, message: "failed to parse websocket JSON-RPC message from exec-server websocket PEER: expected value at line 1 column 1" },
  },
  { id: "bin", error: { code: -32601, message: "exec-server stub does not implement `no/such` yet" } },
];

test("before any tunnel opts in to binary, a binary message shaped like a tunnel frame is JSON, as the reference reads it: a parse error, the connection stays", async () => {
  expect(await answerToFrameBeforeOptIn(await server(), true)).toEqual(PARSE_ERROR);
});

test("after a tunnel opts in to binary, a binary message holding JSON is still a request", async () => {
  const s = await server();
  const client = await raw(s.url);
  expect((await client.ok("tunnel/open", { port: target().port, binary: true })).binary).toBe(true);
  client.ws!.send(new TextEncoder().encode(JSON.stringify({ id: "bin", method: "environment/info", params: {} })));
  expect((await client.waitFor((f) => f.id === "bin")).result.extensions.tunnel).toBe(2);
});

const reference = referenceForTests();
test.skipIf(reference === null)("the reference answers such a binary message the same way", async () => {
  const s = await startServer([], { command: [reference!, "exec-server"] });
  cleanups.push(() => void s.stop("SIGKILL"));
  expect(await answerToFrameBeforeOptIn(s, false)).toEqual(PARSE_ERROR);
});

test("a binary write frame for a tunnel opened without binary, beside one opened with it, closes the connection (1008)", async () => {
  const s = await server();
  const client = await raw(s.url);
  const port = target().port;
  await client.ok("tunnel/open", { port, binary: true });
  const { tunnelId } = await client.ok("tunnel/open", { port });
  await refused(s, client, write(tunnelId, new Uint8Array([1])), 1008, `binary tunnel frame for tunnel ${tunnelId}, not opened with binary: true`);
});

test("malformed binary tunnel frames close the connection (1002) with what is wrong", async () => {
  const s = await server();
  const cases: [Uint8Array, string][] = [
    [new Uint8Array([TunnelFrameKind.write]), "binary tunnel frame without a tunnel id"],
    [new Uint8Array([TunnelFrameKind.write, 0, 7]), "binary tunnel frame without a tunnel id"],
    [new Uint8Array([TunnelFrameKind.write, 40, 0x61, 0x62]), "binary tunnel frame shorter than its header"],
    [new Uint8Array([TunnelFrameKind.write, 2, 0x61, 0x62]), "binary tunnel frame without payload"],
  ];
  for (const [frame, reason] of cases) {
    const client = await raw(s.url);
    await client.ok("tunnel/open", { port: target().port, binary: true });
    await refused(s, client, frame, 1002, reason);
  }
  // The executor's own kind, from a client.
  const client = await raw(s.url);
  const { tunnelId } = await client.ok("tunnel/open", { port: target().port, binary: true });
  await refused(s, client, encodeTunnelFrame(TunnelFrameKind.data, tunnelId, new Uint8Array([1])), 1002, "binary tunnel frame of kind data (0x02): clients send write (0x01)");
});

test("a binary write frame for an id that never was a tunnel's closes the connection (1008), the id cut to fit the reason", async () => {
  const s = await server();
  const client = await raw(s.url);
  await client.ok("tunnel/open", { port: target().port, binary: true });
  const long = "x".repeat(200);
  await refused(s, client, write(long, new Uint8Array([1])), 1008, `binary tunnel frame for unknown tunnel ${"x".repeat(40)}…`);
});

test("a binary write frame over 512 KiB closes the connection (1009)", async () => {
  const s = await server();
  const client = await raw(s.url);
  const { tunnelId } = await client.ok("tunnel/open", { port: target().port, binary: true });
  const n = MAX_TUNNEL_CHUNK_BYTES + 1;
  await refused(s, client, write(tunnelId, new Uint8Array(n)), 1009, `binary tunnel frame of ${n} bytes exceeds ${MAX_TUNNEL_CHUNK_BYTES}`);
});

test("binary writes past the write window close that tunnel with the error (tunnel/closed), not the connection", async () => {
  const s = await server();
  const client = await raw(s.url);
  const { tunnelId } = await client.ok("tunnel/open", { port: target({ startPaused: true }).port, binary: true });
  const chunk = new Uint8Array(MAX_TUNNEL_CHUNK_BYTES);
  // The port reads nothing: past its socket's buffers and the window, the executor refuses.
  for (let i = 0; i < 256 && !client.frames.some((f) => f.method === "tunnel/closed"); i++) {
    client.ws!.send(write(tunnelId, chunk));
    await client.call("environment/info", {});
  }
  const closed = await client.waitFor((f) => f.method === "tunnel/closed");
  expect(closed.params).toEqual({
    tunnelId,
    reason: "error",
    error: `tunnel/write would leave more than ${TUNNEL_WRITE_WINDOW_BYTES} bytes unwritten on tunnel ${tunnelId}: send only as much more as tunnel/written reports`,
  });
  // A frame that was on its way for the closed tunnel is dropped; the connection goes on.
  client.ws!.send(write(tunnelId, chunk));
  expect((await client.call("environment/info", {})).result.extensions.tunnel).toBe(2);
  expect(client.closed).toBe(false);
});

test("the client library uses binary frames on WebSocket, and falls back to base64 JSON over stdio", async () => {
  const s = await server();
  const ws = await connectWebSocket(s.url);
  cleanups.push(() => ws.close());
  const remote = target({ echo: true });
  const viaWs = await ws.openTunnel({ port: remote.port });
  expect(viaWs.binary).toBe(true);
  const forced = await ws.openTunnel({ port: remote.port, binary: false });
  expect(forced.binary).toBe(false);
  const stdio = await connectStdio(execboxCommand());
  cleanups.push(() => stdio.close());
  const viaStdio = await stdio.openTunnel({ port: remote.port });
  expect(viaStdio.binary).toBe(false);
  for (const tunnel of [viaWs, forced, viaStdio]) {
    const bytes = crypto.getRandomValues(new Uint8Array(3 * MAX_TUNNEL_CHUNK_BYTES + 5));
    const got: Uint8Array[] = [];
    let n = 0;
    tunnel.onData((c) => void (got.push(c), (n += c.byteLength)));
    await tunnel.write(bytes);
    await waitUntil(() => n === bytes.byteLength, 10_000, "the echo");
    expect(Buffer.concat(got).equals(Buffer.from(bytes))).toBe(true);
    await tunnel.close();
  }
});

test("a binary tunnel takes its bytes only as frames: a tunnel/write with a chunk is -32600 (it could be overtaken), one with only eof half-closes", async () => {
  const s = await server();
  const client = await raw(s.url);
  const remote = target();
  const { tunnelId } = await client.ok("tunnel/open", { port: remote.port, binary: true });
  expect((await client.call("tunnel/write", { tunnelId, chunk: Buffer.from("hi").toString("base64") })).error).toEqual({
    code: -32600,
    message: `tunnel ${tunnelId} was opened with binary: true: send its bytes as binary frames (tunnel/write carries only its eof)`,
  });
  client.ws!.send(write(tunnelId, Buffer.from("hello")));
  expect(await client.ok("tunnel/write", { tunnelId, eof: true })).toEqual({});
  await waitUntil(() => remote.conns[0]?.eof === true, 10_000, "the port to read EOF");
  expect(remote.conns[0]!.received).toBe(5);
});

test("many tiny binary writes queued for a port that stops reading cost in proportion to their bytes: the executor reads them at once, and the port gets every byte in order", async () => {
  const s = await server();
  const ws = await RawWs.connect(s.url);
  cleanups.push(() => ws.close());
  const frames: any[] = [];
  ws.onText = (text) => void frames.push(JSON.parse(text));
  let nextId = 1;
  const call = async (method: string, params: unknown) => {
    const id = nextId++;
    ws.text(JSON.stringify({ id, method, params }));
    await waitUntil(() => frames.some((f) => f.id === id), 30_000, `the answer to ${method}`);
    return frames.find((f) => f.id === id).result;
  };
  await call("initialize", { clientName: "test" });
  ws.text(JSON.stringify({ method: "initialized", params: {} }));
  const remote = target({ startPaused: true });
  const { tunnelId } = await call("tunnel/open", { port: remote.port, binary: true });
  const hash = new Bun.CryptoHasher("sha256");
  let sent = 0;
  const reported = () => frames.reduce((n, f) => n + (f.method === "tunnel/written" ? f.params.bytes : 0), 0);
  // Large writes until the port's socket stops taking them: from then on, writes queue in the executor.
  const big = Buffer.from(crypto.getRandomValues(new Uint8Array(MAX_TUNNEL_CHUNK_BYTES)));
  while (sent === reported()) {
    ws.send(0x2, Buffer.from(write(tunnelId, big)));
    hash.update(big);
    sent += big.byteLength;
    await call("environment/info", {});
  }
  const N = 50_000;
  const tiny = Buffer.alloc(N);
  for (let i = 0; i < N; i++) tiny[i] = i % 251;
  hash.update(tiny);
  const id = nextId++;
  const started = Date.now();
  ws.sendMany([
    ...Array.from({ length: N }, (_, i) => ({ opcode: 0x2, payload: Buffer.from(write(tunnelId, tiny.subarray(i, i + 1))) })),
    { opcode: 0x1, payload: Buffer.from(JSON.stringify({ id, method: "environment/info", params: {} })) },
  ]);
  await waitUntil(() => frames.some((f) => f.id === id), 120_000, "the answer after the tiny writes");
  // Before, each frame's bookkeeping walked every write still queued (one entry each): 50,000 of them took over 10 s.
  expect(Date.now() - started).toBeLessThan(3_000);
  const conn = remote.conns[0]!;
  conn.socket.resume();
  await waitUntil(() => conn.received === sent + N, 30_000, "every byte at the port");
  expect(conn.receivedHash.digest("hex")).toBe(hash.digest("hex"));
  expect(frames.filter((f) => f.method === "tunnel/closed")).toEqual([]);
});
