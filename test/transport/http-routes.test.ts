/** The HTTP side of the WebSocket listener: readyz, Origin refusal, upgrade checks. */
import { afterAll, beforeAll, expect, test, setDefaultTimeout } from "bun:test";
import { connect } from "node:net";
import { type RunningServer, startServer } from "../helpers/server.ts";

// Integration tests start real servers and processes; each wait inside has its own deadline.
setDefaultTimeout(30_000);

let server: RunningServer;
let base: string;
beforeAll(async () => {
  server = await startServer();
  base = server.url.replace("ws://", "http://");
});
afterAll(async () => {
  await server.stop("SIGKILL");
});

const upgrade = {
  connection: "Upgrade",
  upgrade: "websocket",
  "sec-websocket-version": "13",
  "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
};

test("GET and HEAD /readyz are 200 with an empty body; other methods 405", async () => {
  for (const method of ["GET", "HEAD"]) {
    const r = await fetch(`${base}/readyz`, { method });
    expect(r.status).toBe(200);
    expect(await r.text()).toBe("");
  }
  const post = await fetch(`${base}/readyz`, { method: "POST" });
  expect(post.status).toBe(405);
  expect(post.headers.get("allow")).toBe("GET,HEAD");
});

test("unknown paths are 404", async () => {
  for (const path of ["/foo", "/readyz/"]) expect((await fetch(base + path)).status).toBe(404);
});

test("any Origin header is 403 on every path, before anything else", async () => {
  for (const origin of ["http://127.0.0.1", "null", ""]) {
    for (const path of ["/", "/readyz", "/foo"]) {
      const r = await rawRequest(`GET ${path} HTTP/1.1\r\nHost: x\r\nOrigin: ${origin}\r\nConnection: close\r\n\r\n`);
      expect(r.split("\r\n")[0]).toBe("HTTP/1.1 403 Forbidden");
    }
  }
});

test("upgrade validation answers the reference's texts", async () => {
  const plain = await fetch(`${base}/`);
  expect(plain.status).toBe(400);
  expect(plain.headers.get("content-type")).toBe("text/plain; charset=utf-8");
  expect(await plain.text()).toBe("Connection header did not include 'upgrade'");
  const post = await fetch(`${base}/`, { method: "POST", headers: upgrade });
  expect(post.status).toBe(405);
  expect(await post.text()).toBe("Request method must be `GET`");
  const v12 = await rawRequest(
    `GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 12\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`,
  );
  expect(v12.split("\r\n")[0]).toBe("HTTP/1.1 400 Bad Request");
  expect(v12.endsWith("`Sec-WebSocket-Version` header did not include '13'")).toBe(true);
});

test("a valid upgrade with a query string switches protocols", async () => {
  const r = await rawRequest(
    `GET /?x=y HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`,
    true,
  );
  expect(r.split("\r\n")[0]).toBe("HTTP/1.1 101 Switching Protocols");
  expect(r.toLowerCase()).toContain("sec-websocket-accept: s3pplmbitxaq9kygzzhzrbk+xoo=");
});

/** Sends raw HTTP (fetch cannot send an empty Origin) and returns the response text. */
function rawRequest(text: string, headOnly = false): Promise<string> {
  const { port } = new URL(base);
  return new Promise((resolve, reject) => {
    const sock = connect(Number(port), "127.0.0.1");
    let out = "";
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error("no HTTP response"));
    }, 5000);
    sock.on("data", (d) => {
      out += d.toString();
      if (headOnly && out.includes("\r\n\r\n")) sock.end();
    });
    sock.on("close", () => {
      clearTimeout(timer);
      resolve(out);
    });
    sock.on("error", reject);
    sock.write(text);
    if (!headOnly) setTimeout(() => sock.end(), 200);
  });
}
