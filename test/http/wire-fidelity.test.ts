/**
 * http/request on the wire, against a raw TCP server on 127.0.0.1 that
 * records the exact request bytes and answers exact response bytes. The
 * expected bytes are what the reference (codex exec-server 0.171.0, with a
 * CODEX_HOME) sends and answers for the same calls, probed on this fixture.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { gzipSync, zstdCompressSync } from "node:zlib";
import { RawClient } from "../helpers/rpc-client.ts";
import { type RunningServer, startServer } from "../helpers/server.ts";

setDefaultTimeout(30_000);

type Conn = { buf: Buffer; done: boolean };
/** Each request's bytes (head and body) in arrival order. */
const seen: string[] = [];
let raw: Bun.TCPSocketListener<Conn>;
let base: string;
let exec: RunningServer;
let c: RawClient;

function answer(path: string, hop: number): Buffer {
  const close = (head: string, body: Buffer | string = "") =>
    Buffer.concat([Buffer.from(`${head}Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n`), Buffer.from(body)]);
  if (path === "/multi") return close("HTTP/1.1 200 OK\r\nX-B: 1\r\nSet-Cookie: a=1\r\nx-a: 2\r\nX-B: 3\r\nSet-Cookie: b=2\r\n", "ok");
  if (path === "/loop") return Buffer.from(`HTTP/1.1 302 Found\r\nLocation: /loop\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
  if (path === "/chain") return Buffer.from(`HTTP/1.1 303 See Other\r\nLocation: /chain-${hop}\r\nContent-Length: 0\r\n\r\n`);
  if (path === "/gzip") return Buffer.concat([Buffer.from("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n"), close("X-After: 1\r\n", gzipSync("hello gzip"))]);
  if (path === "/zstd") return Buffer.concat([Buffer.from("HTTP/1.1 200 OK\r\nContent-Encoding: zstd\r\n"), close("", zstdCompressSync("hello zstd"))]);
  if (path === "/deflate") return close("HTTP/1.1 200 OK\r\nContent-Encoding: deflate\r\n", "as-is");
  return close("HTTP/1.1 200 OK\r\n", "ok");
}

beforeAll(async () => {
  raw = Bun.listen<Conn>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(s) {
        s.data = { buf: Buffer.alloc(0), done: false };
      },
      data(s, chunk) {
        if (s.data.done) return;
        s.data.buf = Buffer.concat([s.data.buf, chunk]);
        const end = s.data.buf.indexOf("\r\n\r\n");
        if (end < 0) return;
        const length = Number(/\r\ncontent-length: (\d+)/i.exec(s.data.buf.subarray(0, end).toString())?.[1] ?? 0);
        if (s.data.buf.byteLength < end + 4 + length) return;
        s.data.done = true;
        const text = s.data.buf.toString("latin1");
        seen.push(text);
        s.write(answer(text.split(" ")[1]!, seen.length));
        s.end();
      },
      error() {},
    },
  });
  base = `http://127.0.0.1:${raw.port}`;
  exec = await startServer([]);
  c = await RawClient.websocket(exec.url);
  await c.initialize();
});
afterAll(async () => {
  await exec.stop("SIGKILL");
  raw.stop(true);
});

const host = () => `host: 127.0.0.1:${raw.port}`;
async function call(p: Record<string, unknown>) {
  seen.length = 0;
  return c.call("http/request", { method: "GET", requestId: "w", url: `${base}/plain`, ...p });
}

describe("request bytes", () => {
  test("caller's headers: names lower-cased, repeats kept as lines grouped under the first, then accept, accept-encoding, host", async () => {
    const headers = [["X-Rep", "1"], ["x-rep", "2"], ["User-Agent", "ua"], ["X-Rep", "3"], ["X-Empty", ""]].map(([name, value]) => ({ name, value }));
    await call({ headers });
    expect(seen).toEqual([
      ["GET /plain HTTP/1.1", "x-rep: 1", "x-rep: 2", "x-rep: 3", "user-agent: ua", "x-empty: ", "accept: */*", "accept-encoding: zstd,gzip", host(), "", ""].join("\r\n"),
    ]);
  });
  test("nothing else is added: no user-agent, connection or content-length on bodiless PUT, DELETE and OPTIONS", async () => {
    for (const method of ["PUT", "DELETE", "OPTIONS"]) {
      await call({ method });
      expect(seen).toEqual([`${method} /plain HTTP/1.1\r\naccept: */*\r\naccept-encoding: zstd,gzip\r\n${host()}\r\n\r\n`]);
    }
  });
  test("a body gets content-length after host; the caller's own accept and host stay where given", async () => {
    await call({ method: "POST", bodyBase64: Buffer.from("abc").toString("base64") });
    expect(seen).toEqual([`POST /plain HTTP/1.1\r\naccept: */*\r\naccept-encoding: zstd,gzip\r\n${host()}\r\ncontent-length: 3\r\n\r\nabc`]);
    await call({ headers: [{ name: "Host", value: "h.test" }, { name: "Accept", value: "a/b" }] });
    expect(seen).toEqual(["GET /plain HTTP/1.1\r\nhost: h.test\r\naccept: a/b\r\naccept-encoding: zstd,gzip\r\n\r\n"]);
  });
  test("header values go out as their UTF-8 bytes; other control characters than tab, and DEL, are refused", async () => {
    await call({ headers: [{ name: "X-Utf", value: "café" }, { name: "X-Tab", value: "a\tb" }] });
    expect(seen[0]!.split("\r\n").slice(1, 3)).toEqual([`x-utf: caf${Buffer.from("é").toString("latin1")}`, "x-tab: a\tb"]);
    for (const value of ["a\u0001b", "a\u007fb"]) {
      const r = await call({ headers: [{ name: "X-Ctl", value }] });
      expect(r.error).toEqual({ code: -32602, message: "http/request header value is invalid for X-Ctl: failed to parse header value" });
    }
    expect(seen).toEqual([]);
  });
  test("a range header does not stop the encoding offer", async () => {
    await call({ headers: [{ name: "Range", value: "bytes=0-1" }] });
    expect(seen).toEqual([`GET /plain HTTP/1.1\r\nrange: bytes=0-1\r\naccept: */*\r\naccept-encoding: zstd,gzip\r\n${host()}\r\n\r\n`]);
  });
  test("a URL's credentials become a leading basic authorization (the caller's own replaces it) and never appear in errors", async () => {
    await call({ url: `http://u%40x:p%3Aq@127.0.0.1:${raw.port}/plain`, headers: [{ name: "X-A", value: "1" }] });
    expect(seen[0]!.split("\r\n").slice(1, 3)).toEqual(["authorization: Basic dUB4OnA6cQ==", "x-a: 1"]);
    await call({ url: `http://u:p@127.0.0.1:${raw.port}/plain`, headers: [{ name: "X-A", value: "1" }, { name: "Authorization", value: "mine" }] });
    expect(seen[0]!.split("\r\n").slice(1, 3)).toEqual(["authorization: mine", "x-a: 1"]);
    const r = await call({ url: "http://u:p@127.0.0.1:1/x" });
    expect(r.error).toEqual({ code: -32603, message: "http/request failed: error sending request for url (http://127.0.0.1:1/x)" });
  });
  test("any method token is sent as given, case kept", async () => {
    for (const method of ["CUSTOM-M", "patch", "propfind"]) {
      expect((await call({ method })).result.status).toBe(200);
      expect(seen[0]!.split("\r\n")[0]).toBe(`${method} /plain HTTP/1.1`);
    }
  });
});

describe("response", () => {
  test("headers grouped by name in first-seen order with every repeat, names lower-cased", async () => {
    const r = (await call({ url: `${base}/multi` })).result;
    expect(r.headers).toEqual([
      { name: "x-b", value: "1" },
      { name: "x-b", value: "3" },
      { name: "set-cookie", value: "a=1" },
      { name: "set-cookie", value: "b=2" },
      { name: "x-a", value: "2" },
      { name: "content-length", value: "2" },
      { name: "connection", value: "close" },
    ]);
  });
  test("gzip and zstd bodies are decoded and lose content-encoding and content-length (swap-removed); deflate passes as is", async () => {
    const gz = (await call({ url: `${base}/gzip` })).result;
    expect([Buffer.from(gz.bodyBase64, "base64").toString(), gz.headers]).toEqual(["hello gzip", [{ name: "connection", value: "close" }, { name: "x-after", value: "1" }]]);
    const zs = (await call({ url: `${base}/zstd` })).result;
    expect(Buffer.from(zs.bodyBase64, "base64").toString()).toBe("hello zstd");
    const df = (await call({ url: `${base}/deflate` })).result;
    expect([Buffer.from(df.bodyBase64, "base64").toString(), df.headers[0]]).toEqual(["as-is", { name: "content-encoding", value: "deflate" }]);
  });
  test("a HEAD answer with content-encoding gzip loses content-encoding and content-length too", async () => {
    const r = (await call({ method: "HEAD", url: `${base}/gzip` })).result;
    expect([r.bodyBase64, r.headers]).toEqual(["", [{ name: "connection", value: "close" }, { name: "x-after", value: "1" }]]);
  });
  test("a streamed gzip body arrives decoded", async () => {
    seen.length = 0;
    const id = c.request("http/request", { method: "GET", requestId: "gz", url: `${base}/gzip`, streamResponse: true });
    const done = await c.waitFor((f) => f.method === "http/request/bodyDelta" && f.params.requestId === "gz" && f.params.done);
    const deltas = c.frames.filter((f) => f.method === "http/request/bodyDelta" && f.params.requestId === "gz");
    expect(c.frames.find((f) => f.id === id)!.result.headers).toEqual([{ name: "connection", value: "close" }, { name: "x-after", value: "1" }]);
    expect(Buffer.concat(deltas.map((d) => Buffer.from(d.params.deltaBase64, "base64"))).toString()).toBe("hello gzip");
    expect(done.params.error).toBeNull();
  });
});

describe("redirects", () => {
  test("a loop is given up after 10 redirects with the reference's error; each hop carries a referer first", async () => {
    const r = await call({ url: `${base}/loop` });
    expect(r.error).toEqual({ code: -32603, message: "http/request failed: too many redirects" });
    expect(seen.length).toBe(11);
    expect(seen[1]).toBe(`GET /loop HTTP/1.1\r\nreferer: ${base}/loop\r\naccept: */*\r\naccept-encoding: zstd,gzip\r\n${host()}\r\n\r\n`);
  });
  test("a 303 turns a POST with a body into a bodiless GET without content headers", async () => {
    const headers = [{ name: "Content-Type", value: "text/plain" }, { name: "X-Keep", value: "k" }];
    await call({ method: "POST", url: `${base}/chain`, headers, bodyBase64: Buffer.from("body").toString("base64"), redirectPolicy: "follow" });
    expect(seen[1]).toBe(`GET /chain-1 HTTP/1.1\r\nx-keep: k\r\nreferer: ${base}/chain\r\naccept: */*\r\naccept-encoding: zstd,gzip\r\n${host()}\r\n\r\n`);
  });
});
