/**
 * https through the executor itself (EXECBOX_BIN when set) to a TLS server on
 * 127.0.0.1 with a certificate for 127.0.0.1: refused while its CA is not
 * trusted (certificates are verified), accepted once the executor is started
 * with the test CA in NODE_EXTRA_CA_CERTS; a Cloudflare cookie from this
 * non-ChatGPT host is never sent back.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { RawClient } from "../helpers/rpc-client.ts";
import { type RunningServer, startServer } from "../helpers/server.ts";
import { makeTestCa, type Recorded, startTlsRecorder } from "./test-ca.ts";

setDefaultTimeout(30_000);

const ca = makeTestCa(["IP:127.0.0.1"]);
const heads: string[] = [];
let server: Bun.TCPSocketListener<Recorded>;
const executors: RunningServer[] = [];

beforeAll(() => {
  server = startTlsRecorder(ca, heads);
});
afterAll(async () => {
  await Promise.all(executors.map((e) => e.stop("SIGKILL")));
  server.stop(true);
  ca.dispose();
});

async function client(env: Record<string, string>): Promise<RawClient> {
  const exec = await startServer([], { env: { ...(process.env as Record<string, string>), ...env } });
  executors.push(exec);
  const c = await RawClient.websocket(exec.url);
  await c.initialize();
  return c;
}

test("an untrusted certificate is refused", async () => {
  const c = await client({});
  const url = `https://127.0.0.1:${server.port}/x`;
  const r = await c.call("http/request", { method: "GET", url, requestId: "u" });
  expect(r.error).toEqual({ code: -32603, message: `http/request failed: error sending request for url (${url})` });
});

test("a trusted one is used; cookies from a host that is not ChatGPT's are not kept", async () => {
  const c = await client({ NODE_EXTRA_CA_CERTS: ca.caFile });
  const base = `https://127.0.0.1:${server.port}`;
  heads.length = 0;
  const set = await c.ok("http/request", { method: "GET", url: `${base}/set`, requestId: "s" });
  expect(set.headers.filter((h: { name: string }) => h.name === "set-cookie").length).toBe(2);
  await c.ok("http/request", { method: "GET", url: `${base}/after`, requestId: "a" });
  expect(heads[1]).toBe(`GET /after HTTP/1.1\r\naccept: */*\r\naccept-encoding: zstd,gzip\r\nhost: 127.0.0.1:${server.port}\r\n\r\n`);
});
