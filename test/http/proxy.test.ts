/**
 * The executor's HTTP proxy from its environment, as the reference uses it
 * (probed on 0.171.0): http URLs go to HTTP_PROXY in absolute form with the
 * usual headers, https ones through a CONNECT tunnel to HTTPS_PROXY, and
 * NO_PROXY hosts go direct. Both "proxy" and "origin" are raw TCP recorders
 * on 127.0.0.1.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { RawClient } from "../helpers/rpc-client.ts";
import { type RunningServer, startServer } from "../helpers/server.ts";
import { type Recorded, startRecorder } from "./test-ca.ts";

setDefaultTimeout(30_000);

type Recorder = { heads: string[]; server: Bun.TCPSocketListener<Recorded> };
/** Records each request head; answers 200 "ok" except to CONNECT, which it refuses with 403. */
function recorder(): Recorder {
  const heads: string[] = [];
  const server = startRecorder(heads, (head) =>
    head.startsWith("CONNECT") ? "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n" : "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
  );
  return { heads, server };
}

let proxy: Recorder;
let origin: Recorder;
let exec: RunningServer;
let c: RawClient;

beforeAll(async () => {
  proxy = recorder();
  origin = recorder();
  const at = `http://127.0.0.1:${proxy.server.port}`;
  const env = { ...(process.env as Record<string, string>), HTTP_PROXY: at, HTTPS_PROXY: at, NO_PROXY: "direct.invalid, localhost" };
  exec = await startServer([], { env });
  c = await RawClient.websocket(exec.url);
  await c.initialize();
});
afterAll(async () => {
  await exec.stop("SIGKILL");
  proxy.server.stop(true);
  origin.server.stop(true);
});

test("http goes to HTTP_PROXY in absolute form, headers as without a proxy", async () => {
  const r = await c.ok("http/request", { method: "GET", url: "http://example.invalid/x?q=1", requestId: "p" });
  expect(r.status).toBe(200);
  expect(proxy.heads).toEqual(["GET http://example.invalid/x?q=1 HTTP/1.1\r\naccept: */*\r\naccept-encoding: zstd,gzip\r\nhost: example.invalid\r\n\r\n"]);
});

test("https asks HTTPS_PROXY for a tunnel; a refused tunnel is the reference's send error", async () => {
  proxy.heads.length = 0;
  const url = "https://example.invalid:8443/y";
  const r = await c.call("http/request", { method: "GET", url, requestId: "s" });
  expect(r.error).toEqual({ code: -32603, message: `http/request failed: error sending request for url (${url})` });
  expect(proxy.heads).toEqual(["CONNECT example.invalid:8443 HTTP/1.1\r\nHost: example.invalid:8443\r\n\r\n"]);
});

test("NO_PROXY hosts go direct", async () => {
  proxy.heads.length = 0;
  const r = await c.call("http/request", { method: "GET", url: "http://localhost:1/", requestId: "d" });
  expect(r.error.code).toBe(-32603);
  expect(proxy.heads).toEqual([]);
});
