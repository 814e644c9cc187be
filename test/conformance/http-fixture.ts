/**
 * The local HTTP servers the `http/request` scenarios talk to, started once
 * per run on 127.0.0.1:0 and stopped at the end. A Bun.serve answers the
 * ordinary endpoints; a raw TCP listener answers the few that need control
 * over the exact bytes on the wire (repeated response headers as separate
 * lines, a body cut off mid-stream, the request head exactly as received).
 */
import { gzipSync, zstdCompressSync } from "node:zlib";

export type HttpFixture = { base: string; raw: string; stop: () => void };

/** 3 MiB of deterministic, non-repeating-looking bytes. */
export const BIG_BODY = (() => {
  const b = new Uint8Array(3 * 1024 * 1024);
  let x = 0x12345678;
  for (let i = 0; i < b.length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
})();

/** Request headers /echo reports: the ones scenarios set themselves (the client's defaults are /echo-all's business). */
const ECHOED = /^(x-|content-type$|content-length$|authorization$|transfer-encoding$)/;

const enc = new TextEncoder();

async function echo(req: Request, url: URL, all: boolean): Promise<Response> {
  const body = await req.text();
  const headers = [...req.headers].filter(([k]) => all || ECHOED.test(k)).sort();
  return Response.json({ method: req.method, path: url.pathname + url.search, headers, bodyLen: body.length, body });
}

function chunks(parts: string[], gapMs: number): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({
    async pull(c) {
      if (i > 0) await Bun.sleep(gapMs);
      if (i < parts.length) c.enqueue(enc.encode(parts[i++]));
      else c.close();
    },
  });
}

function route(req: Request): Response | Promise<Response> {
  const url = new URL(req.url);
  const p = url.pathname;
  if (p === "/echo") return echo(req, url, false);
  if (p === "/echo-all") return echo(req, url, true);
  if (p === "/redirect") return new Response(null, { status: 302, headers: { location: "/echo?from=redirect" } });
  if (p === "/redirect-abs") return new Response(null, { status: 301, headers: { location: `${url.origin}/echo?from=abs` } });
  if (p === "/redirect-303") return new Response(null, { status: 303, headers: { location: "/echo?from=303" } });
  if (p === "/redirect-307") return new Response(null, { status: 307, headers: { location: "/echo?from=307" } });
  if (p === "/redirect-loop") return new Response(null, { status: 302, headers: { location: "/redirect-loop" } });
  if (p === "/slow") return Bun.sleep(1_500).then(() => new Response("slow"));
  if (p === "/slow-body") return new Response(chunks(["first;", "second"], 1_500));
  if (p === "/stream") return new Response(chunks(["chunk0\n", "chunk1\n", "chunk2\n", "chunk3\n", "chunk4\n"], 60), { headers: { "content-type": "text/plain" } });
  if (p === "/204") return new Response(null, { status: 204 });
  if (p === "/big") return new Response(BIG_BODY, { headers: { "content-type": "application/octet-stream" } });
  if (p === "/gzip") return new Response(gzipSync("hello gzip"), { headers: { "content-encoding": "gzip", "content-type": "text/plain" } });
  const status = /^\/status\/(\d{3})$/.exec(p);
  if (status) return new Response(`status ${status[1]}`, { status: Number(status[1]) });
  return new Response("not found", { status: 404 });
}

type RawState = { head: string; done: boolean };

/** Raw redirects to /rawecho, whose echo shows what the client sent on the next hop. */
const RAW_REDIRECTS: Record<string, string> = { "/raw-redirect": "302 Found", "/raw-redirect-303": "303 See Other", "/raw-redirect-307": "307 Temporary Redirect" };

/** Answers one request on a raw socket; every response closes the connection. */
function rawAnswer(socket: Bun.Socket<RawState>, head: string): void {
  const path = head.split(" ")[1] ?? "/";
  const send = (text: string) => socket.write(text);
  if (path === "/multi") {
    send(
      "HTTP/1.1 200 OK\r\nX-Multi: a\r\nContent-Type: text/plain\r\nx-multi: b\r\nSet-Cookie: c1=1\r\nX-Empty: \r\n" +
        "Set-Cookie: c2=2; Path=/\r\nX-Comma: p, q\r\nX-Multi: c\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
    );
    socket.end();
  } else if (path === "/streamerr") {
    send("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n7\r\npartial\r\n");
    setTimeout(() => socket.end(), 150);
  } else if (path === "/truncated") {
    send("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b");
    setTimeout(() => socket.end(), 150);
  } else if (path in RAW_REDIRECTS) {
    send(`HTTP/1.1 ${RAW_REDIRECTS[path]}\r\nLocation: /rawecho?hop=1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
    socket.end();
  } else if (path === "/raw-gzip-multi" || path === "/raw-zstd") {
    const gzip = path === "/raw-gzip-multi";
    const body = gzip ? gzipSync("hello gzip") : zstdCompressSync("hello zstd");
    const head = gzip
      ? `HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nX-A: 1\r\nContent-Length: ${body.length}\r\nX-B: 2\r\nX-A: 3\r\nConnection: close\r\n\r\n`
      : `HTTP/1.1 200 OK\r\nContent-Encoding: zstd\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`;
    socket.write(Buffer.concat([Buffer.from(head), body]));
    socket.end();
  } else if (path === "/raw-obs") {
    // A header value with a byte outside visible ASCII, and one with a tab.
    socket.write(Buffer.concat([Buffer.from("HTTP/1.1 200 OK\r\nX-Latin: caf"), Buffer.from([0xe9]), Buffer.from("\r\nX-Tab: a\tb\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")]));
    socket.end();
  } else if (path.startsWith("/rawecho")) {
    const body = JSON.stringify({ head: head.split("\r\n").slice(0, -2) });
    send(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    socket.end();
  } else {
    send("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    socket.end();
  }
}

export function startHttpFixture(): HttpFixture {
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: route, error: () => new Response("fixture error", { status: 500 }) });
  const raw = Bun.listen<RawState>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(s) {
        s.data = { head: "", done: false };
      },
      data(s, chunk) {
        if (s.data.done) return;
        s.data.head += new TextDecoder().decode(chunk);
        const end = s.data.head.indexOf("\r\n\r\n");
        if (end < 0) return;
        s.data.done = true;
        rawAnswer(s, s.data.head.slice(0, end + 4));
      },
      error() {},
    },
  });
  return {
    base: `http://127.0.0.1:${server.port}`,
    raw: `http://127.0.0.1:${raw.port}`,
    stop: () => {
      void server.stop(true);
      raw.stop(true);
    },
  };
}
