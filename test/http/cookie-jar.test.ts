/**
 * The ChatGPT Cloudflare cookie jar: the rules on their own, then through
 * HttpStreams to a real TLS server on 127.0.0.1 whose certificate (for
 * chatgpt.com and other.test) is signed by a CA this test makes. Names reach
 * that server through HttpStreams' `connect` option, the documented way to
 * decide where a host goes; no resolver or trust store of the host is touched.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import tls from "node:tls";
import { CloudflareCookieJar, isChatGptUrl } from "../../src/http/cookie-jar.ts";
import type { Connect } from "../../src/http/http1.ts";
import { HttpStreams } from "../../src/http/request.ts";
import { makeTestCa, type Recorded, startTlsRecorder } from "./test-ca.ts";

setDefaultTimeout(30_000);

describe("jar rules", () => {
  test("ChatGPT hosts are chatgpt.com, chat.openai.com, chatgpt-staging.com and subdomains of the first and last, over https only", () => {
    const yes = ["https://chatgpt.com/", "https://x.chatgpt.com/a", "https://chat.openai.com/", "https://api.chatgpt-staging.com/"];
    const no = ["http://chatgpt.com/", "https://api.openai.com/", "https://evilchatgpt.com/", "https://chatgpt.com.evil.example/", "https://foo.chat.openai.com/"];
    expect(yes.map((u) => isChatGptUrl(new URL(u)))).toEqual(yes.map(() => true));
    expect(no.map((u) => isChatGptUrl(new URL(u)))).toEqual(no.map(() => false));
  });
  test("only Cloudflare cookies from ChatGPT hosts are kept, and given back only to ChatGPT hosts", () => {
    const jar = new CloudflareCookieJar();
    const chat = new URL("https://chatgpt.com/backend-api/x");
    jar.store(chat, ["__cflb=lb; Path=/; Secure; HttpOnly", "session=secret; Path=/", "cf_chl_rc=1; Path=/"]);
    jar.store(new URL("https://api.openai.com/"), ["_cfuvid=v; Path=/"]);
    jar.store(new URL("http://chatgpt.com/"), ["__cf_bm=plain; Path=/"]);
    expect(jar.header(chat)).toBe("__cflb=lb; cf_chl_rc=1");
    expect(jar.header(new URL("https://api.openai.com/"))).toBeUndefined();
    expect(jar.header(new URL("http://chatgpt.com/"))).toBeUndefined();
    // Host-only unless the cookie names a domain.
    expect(jar.header(new URL("https://x.chatgpt.com/"))).toBeUndefined();
  });
  test("a cookie ends when Max-Age says so, and a Domain must cover the setting host", () => {
    let now = 1_000_000;
    const jar = new CloudflareCookieJar(() => now);
    const chat = new URL("https://chatgpt.com/");
    jar.store(chat, ["__cflb=a; Max-Age=10; Domain=chatgpt.com", "__cf_bm=b; Domain=other.example"]);
    expect(jar.header(new URL("https://x.chatgpt.com/"))).toBe("__cflb=a");
    now += 10_000;
    expect(jar.header(chat)).toBeUndefined();
    jar.store(chat, ["__cflb=c", "__cflb=; Max-Age=0"]);
    expect(jar.header(chat)).toBeUndefined();
  });
});

describe("through a TLS server", () => {
  const ca = makeTestCa(["DNS:chatgpt.com", "DNS:other.test"]);
  const heads: string[] = [];
  let server: Bun.TCPSocketListener<Recorded>;
  beforeAll(() => {
    server = startTlsRecorder(ca, heads);
  });
  afterAll(() => {
    server.stop(true);
    ca.dispose();
  });

  /** Every name to the local server, verified against the test CA for the name asked for. */
  const toLocal: Connect = (target) =>
    new Promise((resolve, reject) => {
      const socket = tls.connect({ host: "127.0.0.1", port: server.port, servername: target.host, ca: ca.ca }, () => resolve(socket));
      socket.once("error", reject);
    });

  test("__cflb set by https://chatgpt.com goes back to it, not to another host; the other cookie is dropped", async () => {
    const http = new HttpStreams({}, { connect: toLocal, jar: new CloudflareCookieJar() });
    const conn = { notify() {}, ready: () => undefined, afterReply() {} };
    const get = async (url: string) => {
      heads.length = 0;
      const r = await http.request({ method: "GET", url, requestId: "c" }, conn);
      expect(r.status).toBe(200);
      return heads[0]!.split("\r\n").slice(1, -2);
    };
    await get("https://chatgpt.com/set");
    expect(await get("https://chatgpt.com/after")).toEqual(["accept: */*", "accept-encoding: zstd,gzip", "cookie: __cflb=lb1", "host: chatgpt.com"]);
    expect(await get("https://other.test/after")).toEqual(["accept: */*", "accept-encoding: zstd,gzip", "host: other.test"]);
    await get("https://other.test/set");
    expect(await get("https://other.test/after")).toEqual(["accept: */*", "accept-encoding: zstd,gzip", "host: other.test"]);
  });
});
