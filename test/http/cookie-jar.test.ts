/**
 * The ChatGPT Cloudflare cookie jar: the rules on their own, then through
 * HttpStreams to a real TLS server on 127.0.0.1 whose certificate (for
 * chatgpt.com and other.test) is signed by a CA this test makes. Names reach
 * that server through HttpStreams' `connect` option, the documented way to
 * decide where a host goes; no resolver or trust store of the host is touched.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import tls from "node:tls";
import { CloudflareCookieJar, isChatGptUrl } from "../../src/http/cookie-jar.ts";
import type { Connect } from "../../src/http/http1.ts";
import { HttpStreams } from "../../src/http/request.ts";

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
  let dir: string;
  let ca: string;
  let server: Bun.TCPSocketListener<{ buf: string }>;
  const heads: string[] = [];

  function openssl(...args: string[]): void {
    const r = Bun.spawnSync(["openssl", ...args], { cwd: dir, stderr: "pipe" });
    if (r.exitCode !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr.toString()}`);
  }

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "execbox-cookie-tls-"));
    const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
    openssl("req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "1", "-subj", "/CN=execbox test CA",
      "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign");
    openssl("req", ...ec, "-keyout", "srv.key", "-out", "srv.csr", "-subj", "/CN=chatgpt.com");
    Bun.write(join(dir, "ext"), "subjectAltName=DNS:chatgpt.com,DNS:other.test\nextendedKeyUsage=serverAuth\n");
    openssl("x509", "-req", "-in", "srv.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "srv.pem", "-days", "1", "-extfile", "ext");
    ca = readFileSync(join(dir, "ca.pem"), "utf8");
    server = Bun.listen<{ buf: string }>({
      hostname: "127.0.0.1",
      port: 0,
      tls: { cert: readFileSync(join(dir, "srv.pem"), "utf8"), key: readFileSync(join(dir, "srv.key"), "utf8") },
      socket: {
        open(s) {
          s.data = { buf: "" };
        },
        data(s, chunk) {
          s.data.buf += Buffer.from(chunk).toString("latin1");
          if (!s.data.buf.includes("\r\n\r\n")) return;
          heads.push(s.data.buf);
          const set = s.data.buf.startsWith("GET /set ") ? "Set-Cookie: __cflb=lb1; Path=/; Secure; HttpOnly\r\nSet-Cookie: other=o1; Path=/\r\n" : "";
          s.write(`HTTP/1.1 200 OK\r\n${set}Content-Length: 2\r\nConnection: close\r\n\r\nok`);
          s.end();
        },
        error() {},
      },
    });
  });
  afterAll(() => {
    server.stop(true);
    rmSync(dir, { recursive: true, force: true });
  });

  /** Every name to the local server, verified against the test CA for the name asked for. */
  const toLocal: Connect = (target) =>
    new Promise((resolve, reject) => {
      const socket = tls.connect({ host: "127.0.0.1", port: server.port, servername: target.host, ca }, () => resolve(socket));
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
