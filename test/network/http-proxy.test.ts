/**
 * The managed HTTP proxy's byte paths (src/network/http-proxy.ts on
 * src/network/byte-socket.ts), driven directly with real sockets on
 * 127.0.0.1: a CONNECT tunnel carries 32 MiB each way byte-exact while the
 * client reads slowly (so the proxy queues and pauses the origin); an origin
 * that ends while held back still gets every byte through before the end; a
 * plain request's large body keeps the connection usable for the next one.
 */
import { afterEach, expect, test } from "bun:test";
import { type Socket as NodeSocket, connect } from "node:net";
import type { Socket } from "bun";
import { PolicyGate } from "../../src/network/gate.ts";
import { startHttpProxy } from "../../src/network/http-proxy.ts";
import type { ProxyListener } from "../../src/network/proxy-listener.ts";
import { maskedFrame } from "../../src/remote/relay/ws-client.ts";
import { FrameReader, Opcode } from "../../src/transport/ws-frames.ts";
import { waitUntil, waitUntilSteady } from "../helpers/wait.ts";

const MiB = 1 << 20;
const TUNNEL_BYTES = 32 * MiB;
/** More than loopback buffers and the proxy hold while nobody reads: the origin is held back before it has written it all. */
const STALLING_REPLY_BYTES = 64 * MiB;
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const fn of cleanups.splice(0)) fn();
});

function proxy(mode: "full" | "limited" = "full", decisions: string[] = []): ProxyListener {
  const gate = new PolicyGate({ domains: { "127.0.0.1": "allow" }, allowLocalBinding: true, mode, reviewDomains: [] }, async (h) => [h], (e) => decisions.push(`${e.method} ${e.decision} ${e.reason}`));
  const p = startHttpProxy(gate);
  cleanups.push(() => p.stop());
  return p;
}

/** Bytes that differ at every offset of a 32 MiB stream (a repeated pattern would hide a skipped block). */
function pattern(bytes: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(bytes);
  for (let i = 0; i < bytes; i += 4) out.writeUInt32LE((i * 2654435761 + seed) >>> 0, i);
  return out;
}

/** An origin that takes `expectIn` bytes, then sends `reply` and ends at once after its last write. */
function origin(expectIn: number, reply: Buffer) {
  const received: Buffer[] = [];
  let got = 0;
  type S = { at: number };
  const flush = (s: Socket<S>) => {
    while (s.data.at < reply.byteLength) {
      const n = s.write(reply.subarray(s.data.at, s.data.at + MiB));
      if (n <= 0) return;
      s.data.at += n;
    }
    s.end();
  };
  const server = Bun.listen<S>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open: (s) => void (s.data = { at: -1 }),
      data(s, d) {
        received.push(d);
        got += d.byteLength;
        if (got === expectIn && s.data.at < 0) {
          s.data.at = 0;
          flush(s);
        }
      },
      drain: (s) => (s.data.at >= 0 ? flush(s) : undefined),
    },
  });
  cleanups.push(() => server.stop(true));
  return { port: server.port, received: () => Buffer.concat(received) };
}

/** A client that reads one chunk per macrotask turn, pausing in between: slower than the origin writes. */
function slowReader(socket: NodeSocket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  socket.on("data", (d: Buffer) => {
    chunks.push(d);
    socket.pause();
    setImmediate(() => socket.resume());
  });
  return new Promise((resolve, reject) => {
    socket.on("close", () => resolve(Buffer.concat(chunks)));
    socket.on("error", reject);
  });
}

/** `CONNECT` through `p` to 127.0.0.1:`port`; resolves with the client once the tunnel is open. */
async function openTunnel(p: ProxyListener, port: number): Promise<NodeSocket> {
  const client = connect({ host: "127.0.0.1", port: p.port });
  cleanups.push(() => client.destroy());
  const head = await new Promise<string>((resolve) => {
    client.write(`CONNECT 127.0.0.1:${port} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
    client.once("data", (d: Buffer) => resolve(d.toString("latin1")));
  });
  expect(head).toMatch(/^HTTP\/1\.1 200 OK\r\ndate: [^\r]+ GMT\r\n\r\n$/);
  return client;
}

test("a CONNECT tunnel carries 32 MiB each way byte-exact to a slow reader", async () => {
  const up = pattern(TUNNEL_BYTES, 1);
  const down = pattern(TUNNEL_BYTES, 2);
  const o = origin(TUNNEL_BYTES, down);
  const client = await openTunnel(proxy(), o.port);
  const downloaded = slowReader(client);
  client.write(up);
  const got = await downloaded;
  expect(got.byteLength).toBe(TUNNEL_BYTES);
  expect(got.equals(down)).toBe(true);
  expect(o.received().equals(up)).toBe(true);
}, 20_000);

test("the origin ends while back-pressure from a client that is not reading holds it: every byte it wrote arrives, then the end", async () => {
  // The origin writes until back-pressure holds it (the client reads nothing, so the
  // proxy has bytes it could not pass on and has stopped reading), then ends there.
  const down = pattern(STALLING_REPLY_BYTES, 4);
  let written = 0;
  let origin: Socket<undefined> | null = null;
  const pump = (socket: Socket<undefined>) => {
    while (written < down.byteLength) {
      const n = socket.write(down.subarray(written, written + 64 * 1024));
      written += Math.max(0, n);
      if (n < 64 * 1024) return;
    }
  };
  const server = Bun.listen<undefined>({
    hostname: "127.0.0.1",
    port: 0,
    socket: { open: (socket) => void (origin = socket), data: pump, drain: pump },
  });
  cleanups.push(() => server.stop(true));
  const client = await openTunnel(proxy(), server.port);
  client.pause();
  client.write("x");
  const held = await waitUntilSteady(() => written, "the origin held back", { samples: 6, intervalMs: 50 });
  expect(held).toBeLessThan(STALLING_REPLY_BYTES);
  origin!.end();
  const downloaded = slowReader(client);
  client.resume();
  const got = await downloaded;
  expect(got.byteLength).toBe(held);
  expect(got.equals(down.subarray(0, held))).toBe(true);
}, 20_000);

test("a plain request with an 8 MiB body, then another on the same connection: both forwarded and answered in order", async () => {
  const body = pattern(8 * MiB, 3);
  const seen: string[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const bytes = Buffer.from(await req.arrayBuffer());
      seen.push(`${req.method} ${new URL(req.url).pathname} ${bytes.byteLength} ${bytes.equals(body)}`);
      return new Response(`${seen.length}`);
    },
  });
  cleanups.push(() => server.stop(true));
  const p = proxy();
  const client = connect({ host: "127.0.0.1", port: p.port });
  cleanups.push(() => client.destroy());
  let text = "";
  client.on("data", (d: Buffer) => (text += d.toString("latin1")));
  const url = `http://127.0.0.1:${server.port}`;
  client.write(`POST ${url}/a HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nContent-Length: ${body.byteLength}\r\n\r\n`);
  client.write(body);
  client.write(`GET ${url}/b HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\n\r\n`);
  const twoAnswers = /^HTTP\/1\.1 200 OK\r\n[^]*?\r\n\r\n1HTTP\/1\.1 200 OK\r\n[^]*?\r\n\r\n2$/;
  await waitUntil(() => twoAnswers.test(text), 20_000, "two answers");
  expect(seen).toEqual(["POST /a 8388608 true", "GET /b 0 false"]);
}, 20_000);

test("plain requests through the proxy: a length-framed and a chunked response arrive byte-exact, and a body the client sent with its request too", async () => {
  const block = pattern(MiB, 5);
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const path = new URL(req.url).pathname;
      if (path === "/echo") return new Response(await req.arrayBuffer());
      if (path === "/length") return new Response(Buffer.concat([block, block, block]));
      let sent = 0;
      return new Response(new ReadableStream({ pull: (c) => (sent++ < 3 ? c.enqueue(block) : c.close()) }));
    },
  });
  cleanups.push(() => server.stop(true));
  const p = proxy();
  const via = { proxy: `http://127.0.0.1:${p.port}` };
  const base = `http://127.0.0.1:${server.port}`;
  const chunked = await fetch(`${base}/chunked`, via);
  expect(chunked.headers.get("transfer-encoding")).toBe("chunked");
  expect(Buffer.from(await chunked.arrayBuffer()).equals(Buffer.concat([block, block, block]))).toBe(true);
  const length = await fetch(`${base}/length`, via);
  expect(length.headers.get("content-length")).toBe(String(3 * MiB));
  expect(Buffer.from(await length.arrayBuffer()).equals(Buffer.concat([block, block, block]))).toBe(true);
  const echoed = await fetch(`${base}/echo`, { ...via, method: "POST", body: block });
  expect(Buffer.from(await echoed.arrayBuffer()).equals(block)).toBe(true);
}, 20_000);

test("a websocket upgrade through the proxy becomes a tunnel: 101 passed on, then frames both ways byte-exact", async () => {
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: (req, s) => (s.upgrade(req) ? undefined : new Response("no", { status: 400 })),
    websocket: { message: (ws, m) => void ws.send(m) },
  });
  cleanups.push(() => server.stop(true));
  const p = proxy();
  const client = connect({ host: "127.0.0.1", port: p.port });
  cleanups.push(() => client.destroy());
  const received: Buffer[] = [];
  client.on("data", (d: Buffer) => received.push(d));
  const key = Buffer.from("0123456789abcdef").toString("base64");
  client.write(
    `GET http://127.0.0.1:${server.port}/ws HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  const all = () => Buffer.concat(received);
  await waitUntil(() => all().includes("\r\n\r\n"), 10_000, "the 101");
  const headEnd = all().indexOf("\r\n\r\n") + 4;
  expect(all().subarray(0, headEnd).toString("latin1")).toStartWith("HTTP/1.1 101 ");
  const payload = pattern(200_000, 6);
  client.write(maskedFrame(Opcode.binary, payload));
  const reader = new FrameReader(1 << 20, () => 0, true);
  const echoed: Uint8Array[] = [];
  let at = headEnd;
  await waitUntil(() => {
    const bytes = all();
    if (bytes.byteLength > at) reader.push(bytes.subarray(at), (e) => (e.kind === "message" ? void echoed.push(e.payload.slice()) : undefined));
    at = bytes.byteLength;
    return echoed.length > 0;
  }, 10_000, "the echo");
  expect(Buffer.from(echoed[0]!).equals(payload)).toBe(true);
}, 20_000);

test("a client that goes away in the middle of a long response: the proxy lets go of the origin connection too", async () => {
  let originClosed = false;
  let at = 0;
  const body = pattern(64 * MiB, 7);
  const pump = (socket: Socket<undefined>) => {
    while (at < body.byteLength) {
      const n = socket.write(body.subarray(at, at + MiB));
      at += Math.max(0, n);
      if (n < MiB) return;
    }
  };
  const server = Bun.listen<undefined>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      data(socket) {
        socket.write(`HTTP/1.1 200 OK\r\ncontent-length: ${body.byteLength}\r\n\r\n`);
        pump(socket);
      },
      drain: pump,
      close: () => void (originClosed = true),
    },
  });
  cleanups.push(() => server.stop(true));
  const p = proxy();
  const client = connect({ host: "127.0.0.1", port: p.port });
  cleanups.push(() => client.destroy());
  let got = 0;
  client.on("data", (d: Buffer) => (got += d.byteLength));
  client.write(`GET http://127.0.0.1:${server.port}/big HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\n\r\n`);
  await waitUntil(() => got > MiB, 10_000, "the first MiB");
  client.destroy();
  await waitUntil(() => originClosed, 10_000, "the origin connection to close");
  expect(at).toBeLessThan(body.byteLength);
}, 20_000);

test("smuggling: an ambiguous request gets the reference's 400 before any check; a chunked one loses its Content-Length, so the request after its body is checked on its own", async () => {
  const seen: string[] = [];
  const server = Bun.listen<undefined>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      data(socket, d) {
        seen.push(d.toString("latin1"));
        socket.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
      },
    },
  });
  cleanups.push(() => server.stop(true));
  const decisions: string[] = [];
  const p = proxy("limited", decisions);
  const send = async (raw: string, until: RegExp) => {
    const client = connect({ host: "127.0.0.1", port: p.port });
    cleanups.push(() => client.destroy());
    let text = "";
    client.on("data", (d: Buffer) => (text += d.toString("latin1")));
    client.write(raw);
    await waitUntil(() => until.test(text), 10_000, `an answer matching ${until}`);
    return text.replace(/^date: .*\r\n/gim, "");
  };
  const host = `127.0.0.1:${server.port}`;
  const hidden = `POST http://${host}/smuggled HTTP/1.1\r\nHost: ${host}\r\ncontent-length: 0\r\n\r\n`;
  const chunked = await send(`GET http://${host}/a HTTP/1.1\r\nHost: ${host}\r\nContent-Length: ${5 + hidden.length}\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${hidden}`, /403 Forbidden[^]*\}$/);
  expect(chunked).toStartWith("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nokHTTP/1.1 403 Forbidden\r\n");
  expect(seen.join("")).toBe(`GET /a HTTP/1.1\r\nHost: ${host}\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`);
  expect(decisions).toEqual(["GET allow allow", "POST allow allow", "POST deny method_not_allowed"]);
  decisions.length = 0;
  seen.length = 0;
  const BAD_REQUEST = "HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n";
  expect(await send(`GET http://${host}/b HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 0\r\nContent-Length: 7\r\n\r\n`, /\r\n\r\n$/)).toBe(BAD_REQUEST);
  expect(await send(`GET http://${host}/c HTTP/1.1\r\nHost: ${host}\r\nTransfer-Encoding: gzip\r\n\r\n`, /\r\n\r\n$/)).toBe(BAD_REQUEST);
  expect(await send(`GET http://${host}/d HTTP/1.1\r\nHost: ${host}\r\nContent-Length: -1\r\n\r\n`, /\r\n\r\n$/)).toBe(BAD_REQUEST);
  expect([seen, decisions]).toEqual([[], []]);
});

test("a refused request whose body the proxy never reads still gets its 400: the proxy reads on before closing, so the close is no reset that drops the answer", async () => {
  const p = proxy();
  for (let run = 0; run < 3; run++) {
    const client = connect({ host: "127.0.0.1", port: p.port });
    cleanups.push(() => client.destroy());
    let text = "";
    let error = "";
    client.on("data", (d: Buffer) => (text += d.toString("latin1")));
    client.on("error", (e) => (error = e.message));
    const closed = new Promise((r) => client.on("close", r));
    client.write(`POST http://127.0.0.1:1/x HTTP/1.1\r\nHost: 127.0.0.1:1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n`);
    client.write(Buffer.alloc(4 * MiB, 0x61));
    client.end();
    await closed;
    expect([error, text.replace(/^date: .*\r\n/gim, "")]).toEqual(["", "HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n"]);
  }
}, 20_000);
