/** http/request against a local Bun.serve on 127.0.0.1, buffered and streamed. */
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { RawClient } from "../helpers/rpc-client.ts";
import { type RunningServer, startServer } from "../helpers/server.ts";

// Integration tests start real servers and processes; each wait inside has its own deadline.
setDefaultTimeout(30_000);

let exec: RunningServer;
let c: RawClient;
let http: ReturnType<typeof Bun.serve>;
let base: string;
const BIG = Buffer.alloc(3 * 1024 * 1024 + 7, 0x61);
let releaseSlow: () => void = () => {};
let endlessCancelled: () => void = () => {};
const endlessGone = new Promise<void>((r) => (endlessCancelled = r));

beforeAll(async () => {
  http = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const url = new URL(req.url);
      switch (url.pathname) {
        case "/echo": {
          const body = Buffer.from(await req.arrayBuffer()).toString();
          const headers = [...req.headers].filter(([k]) => k.startsWith("x-") || k === "content-type");
          return Response.json({ method: req.method, path: url.pathname + url.search, headers, body });
        }
        case "/loop":
          return new Response(null, { status: 302, headers: { location: "/loop" } });
        case "/redirect":
          return new Response(null, { status: 302, headers: { location: "/echo?from=redirect" } });
        case "/multi": {
          const h = new Headers();
          h.append("x-multi", "a");
          h.append("x-multi", "b");
          h.append("set-cookie", "a=1");
          h.append("set-cookie", "b=2");
          return new Response("m", { headers: h });
        }
        case "/big":
          return new Response(BIG);
        case "/endless":
          return new Response(
            new ReadableStream({
              async pull(ctl) {
                ctl.enqueue(new Uint8Array(16 * 1024));
                await Bun.sleep(2);
              },
              cancel: () => endlessCancelled(),
            }),
          );
        case "/nocontent":
          return new Response(null, { status: 204 });
        case "/slow":
          await new Promise<void>((r) => (releaseSlow = r));
          return new Response("late");
        case "/stream": {
          let i = 0;
          return new Response(
            new ReadableStream({
              async pull(ctl) {
                if (i === 5) return ctl.close();
                ctl.enqueue(new TextEncoder().encode(`chunk${i++}\n`));
                await Bun.sleep(5);
              },
            }),
            { headers: { "content-type": "text/plain" } },
          );
        }
        case "/streamerr":
          return new Response(
            new ReadableStream({
              async pull(ctl) {
                ctl.enqueue(new TextEncoder().encode("partial"));
                await Bun.sleep(20);
                ctl.error(new Error("boom"));
              },
            }),
          );
        default:
          return new Response("not found", { status: 404 });
      }
    },
  });
  base = `http://127.0.0.1:${http.port}`;
  // Several requests at once, so a streamed request waiting for headers does not hold up the next.
  exec = await startServer(["--concurrent-requests", "4"], { env: { ...process.env, EXAMPLE_TOKEN: "s3cret" } as Record<string, string> });
  c = await RawClient.websocket(exec.url);
  await c.initialize();
});
afterAll(async () => {
  releaseSlow();
  await exec.stop("SIGKILL");
  http.stop(true);
});

const body = (r: any) => Buffer.from(r.bodyBase64, "base64").toString();
const req = (p: Record<string, unknown>) => ({ method: "GET", requestId: "r", ...p });

describe("buffered", () => {
  test("standard and WebDAV methods are sent (any token goes as given: wire-fidelity.test.ts)", async () => {
    for (const method of ["PATCH", "PROPFIND", "DELETE"]) {
      const r = await c.ok("http/request", req({ method, url: `${base}/echo` }));
      expect(JSON.parse(body(r)).method).toBe(method);
    }
  });
  test("GET with query, headers in order with valueEnvVar, POST body", async () => {
    const r = await c.ok("http/request", req({ url: `${base}/echo?q=1` }));
    expect(r.status).toBe(200);
    expect(JSON.parse(body(r))).toEqual({ method: "GET", path: "/echo?q=1", headers: [], body: "" });
    const post = await c.ok("http/request", req({
      method: "POST",
      url: `${base}/echo`,
      headers: [{ name: "Content-Type", value: "text/plain" }, { name: "X-Token", value: "Bearer ", valueEnvVar: "EXAMPLE_TOKEN" }],
      bodyBase64: Buffer.from("payload").toString("base64"),
      timeoutMs: 5000,
    }));
    expect(JSON.parse(body(post))).toEqual({ method: "POST", path: "/echo", headers: [["content-type", "text/plain"], ["x-token", "Bearer s3cret"]], body: "payload" });
    expect(post.headers.find((h: any) => h.name === "content-type").value).toBe("application/json;charset=utf-8");
  });
  test("repeated response headers: Set-Cookie kept one per entry, names lower-cased (exact order: wire-fidelity.test.ts)", async () => {
    const r = await c.ok("http/request", req({ url: `${base}/multi` }));
    const names = r.headers.map((h: any) => h.name);
    expect(names.every((n: string) => n === n.toLowerCase())).toBe(true);
    expect(r.headers.filter((h: any) => h.name === "set-cookie").map((h: any) => h.value)).toEqual(["a=1", "b=2"]);
  });
  test("redirects: followed by default, returned with stop", async () => {
    const followed = await c.ok("http/request", req({ url: `${base}/redirect` }));
    expect(JSON.parse(body(followed)).path).toBe("/echo?from=redirect");
    const stopped = await c.ok("http/request", req({ url: `${base}/redirect`, redirectPolicy: "stop" }));
    expect(stopped.status).toBe(302);
    expect(stopped.headers.find((h: any) => h.name === "location").value).toBe("/echo?from=redirect");
    expect(stopped.bodyBase64).toBe("");
  });
  test("a 3 MiB body arrives exactly; non-2xx is a result, not an error", async () => {
    const big = await c.ok("http/request", req({ url: `${base}/big` }));
    expect(Buffer.from(big.bodyBase64, "base64").equals(BIG)).toBe(true);
    const missing = await c.ok("http/request", req({ url: `${base}/nope` }));
    expect([missing.status, body(missing)]).toEqual([404, "not found"]);
  });
  test("timeouts and transport failures", async () => {
    const zero = await c.call("http/request", req({ url: `${base}/echo`, timeoutMs: 0 }));
    expect(zero.error).toEqual({ code: -32603, message: "http/request failed: route-aware request timed out" });
    const slow = await c.call("http/request", req({ url: `${base}/slow`, timeoutMs: 100 }));
    expect(slow.error).toEqual({ code: -32603, message: `http/request failed: error sending request for url (${base}/slow)` });
    releaseSlow();
    const loop = await c.call("http/request", req({ url: `${base}/loop` }));
    expect(loop.error).toEqual({ code: -32603, message: "http/request failed: too many redirects" });
    const refused = await c.call("http/request", req({ url: "http://127.0.0.1:1/" }));
    expect(refused.error).toEqual({ code: -32603, message: "http/request failed: error sending request for url (http://127.0.0.1:1/)" });
  });
  test("validation errors", async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ url: "ftp://127.0.0.1/" }, "http/request only supports http and https URLs, got ftp"],
      [{ url: "not a url" }, "http/request url is invalid: relative URL without a base"],
      [{ url: `${base}/echo`, method: "GE T" }, "http/request method is invalid: invalid HTTP method"],
      [{ url: `${base}/echo`, headers: [{ name: "Bad Name", value: "x" }] }, "http/request header name is invalid: invalid HTTP header name"],
      [{ url: `${base}/echo`, headers: [{ name: "X-Key", value: "", valueEnvVar: "NOT_SET_ANYWHERE" }] }, "http/request header X-Key requires executor environment variable NOT_SET_ANYWHERE"],
      [{ url: `${base}/echo`, bodyBase64: "!!" }, "Invalid symbol 33, offset 0."],
      [{ url: `${base}/echo`, headers: null }, "invalid type: null, expected a sequence"],
      [{ url: `${base}/echo`, headers: [{ name: "X-Nl", value: "a\nb" }] }, "http/request header value is invalid for X-Nl: failed to parse header value"],
      [{ url: "http://" }, "http/request url is invalid: empty host"],
      [{ url: "http://[::1" }, "http/request url is invalid: invalid IPv6 address"],
    ];
    for (const [p, message] of cases) {
      expect((await c.call("http/request", req(p))).error).toEqual({ code: -32602, message });
    }
  });
});

describe("streamed", () => {
  test("the response comes first, then ordered deltas from seq 1 and one done frame", async () => {
    const id = c.request("http/request", req({ url: `${base}/stream`, requestId: "s1", streamResponse: true }));
    const done = await c.waitFor((f) => f.method === "http/request/bodyDelta" && f.params.requestId === "s1" && f.params.done);
    const response = c.frames.findIndex((f) => f.id === id);
    const deltas = c.frames.filter((f) => f.method === "http/request/bodyDelta" && f.params.requestId === "s1");
    expect(response).toBeLessThan(c.frames.indexOf(deltas[0]!));
    expect(c.frames[response]!.result.bodyBase64).toBe("");
    expect(deltas.map((d) => d.params.seq)).toEqual(deltas.map((_, i) => i + 1));
    expect(Buffer.concat(deltas.map((d) => Buffer.from(d.params.deltaBase64, "base64"))).toString()).toBe("chunk0\nchunk1\nchunk2\nchunk3\nchunk4\n");
    expect(done.params).toEqual({ requestId: "s1", seq: deltas.length, deltaBase64: "", done: true, error: null });
  });
  test("a body that fails mid-stream ends with an error frame", async () => {
    c.request("http/request", req({ url: `${base}/streamerr`, requestId: "s2", streamResponse: true }));
    const done = await c.waitFor((f) => f.method === "http/request/bodyDelta" && f.params.requestId === "s2" && f.params.done);
    expect(done.params.error).toBe("error decoding response body");
    expect(done.params.deltaBase64).toBe("");
  });
  test("a bodiless response is a single done frame", async () => {
    c.request("http/request", req({ url: `${base}/nocontent`, requestId: "s3", streamResponse: true }));
    const done = await c.waitFor((f) => f.method === "http/request/bodyDelta" && f.params.requestId === "s3");
    expect(done.params).toEqual({ requestId: "s3", seq: 1, deltaBase64: "", done: true, error: null });
  });
  test("an active streamed requestId cannot be reused until its done frame", async () => {
    const first = c.request("http/request", req({ url: `${base}/slow`, requestId: "dup", streamResponse: true }));
    // The first request is waiting for headers; the id is already taken.
    const second = await c.call("http/request", req({ url: `${base}/echo`, requestId: "dup", streamResponse: true }));
    expect(second.error).toEqual({ code: -32602, message: "http/request streamResponse requestId `dup` is already active" });
    const buffered = await c.ok("http/request", req({ url: `${base}/echo`, requestId: "dup" }));
    expect(buffered.status).toBe(200);
    releaseSlow();
    await c.waitFor((f) => f.id === first);
    await c.waitFor((f) => f.method === "http/request/bodyDelta" && f.params.requestId === "dup" && f.params.done);
    const again = await c.ok("http/request", req({ url: `${base}/echo`, requestId: "dup", streamResponse: true }));
    expect(again.status).toBe(200);
  });
});

test("closing the connection cancels its streams upstream", async () => {
  const other = await RawClient.websocket(exec.url);
  await other.initialize();
  other.request("http/request", req({ url: `${base}/endless`, requestId: "e", streamResponse: true }));
  await other.waitFor((f) => f.method === "http/request/bodyDelta");
  other.close();
  let timer: Timer | undefined;
  const outcome = await Promise.race([endlessGone.then(() => "cancelled"), new Promise((r) => (timer = setTimeout(() => r("still streaming"), 5000)))]);
  clearTimeout(timer);
  expect(outcome).toBe("cancelled");
});
