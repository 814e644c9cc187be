/**
 * A throwaway CA and a server certificate it signs, made with openssl in a
 * temp dir the caller removes (`dispose`). Only tests trust this CA, and only
 * by passing it explicitly; nothing of the host's trust store is touched.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export type TestCa = { dir: string; caFile: string; ca: string; cert: string; key: string; dispose: () => void };

/** `altNames` like `DNS:chatgpt.com` or `IP:127.0.0.1`. */
export function makeTestCa(altNames: string[]): TestCa {
  const dir = mkdtempSync(join(tmpdir(), "execbox-test-ca-"));
  const openssl = (...args: string[]) => {
    const r = Bun.spawnSync(["openssl", ...args], { cwd: dir, stderr: "pipe" });
    if (r.exitCode !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr.toString()}`);
  };
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  openssl("req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "1", "-subj", "/CN=execbox test CA",
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign");
  openssl("req", ...ec, "-keyout", "srv.key", "-out", "srv.csr", "-subj", "/CN=execbox test server");
  writeFileSync(join(dir, "ext"), `subjectAltName=${altNames.join(",")}\nextendedKeyUsage=serverAuth\n`);
  openssl("x509", "-req", "-in", "srv.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "srv.pem", "-days", "1", "-extfile", "ext");
  const read = (f: string) => readFileSync(join(dir, f), "utf8");
  return { dir, caFile: join(dir, "ca.pem"), ca: read("ca.pem"), cert: read("srv.pem"), key: read("srv.key"), dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

export type Recorded = { buf: string };

/**
 * A server on 127.0.0.1 (TLS when `tlsKeys` is given) that records each
 * request head in `heads` and writes `answer(head)`, closing the connection.
 */
export function startRecorder(heads: string[], answer: (head: string) => string, tlsKeys?: { cert: string; key: string }): Bun.TCPSocketListener<Recorded> {
  return Bun.listen<Recorded>({
    hostname: "127.0.0.1",
    port: 0,
    ...(tlsKeys ? { tls: tlsKeys } : {}),
    socket: {
      open(s) {
        s.data = { buf: "" };
      },
      data(s, chunk) {
        s.data.buf += Buffer.from(chunk).toString("latin1");
        if (!s.data.buf.includes("\r\n\r\n")) return;
        heads.push(s.data.buf);
        s.write(answer(s.data.buf));
        s.end();
      },
      error() {},
    },
  });
}

/** A TLS recorder answering 200 "ok", with a `__cflb` and an `other` cookie on paths starting /set. */
export function startTlsRecorder(ca: TestCa, heads: string[]): Bun.TCPSocketListener<Recorded> {
  return startRecorder(
    heads,
    (head) => {
      const set = head.startsWith("GET /set") ? "Set-Cookie: __cflb=lb1; Path=/; Secure; HttpOnly\r\nSet-Cookie: other=o1; Path=/\r\n" : "";
      return `HTTP/1.1 200 OK\r\n${set}Content-Length: 2\r\nConnection: close\r\n\r\nok`;
    },
    { cert: ca.cert, key: ca.key },
  );
}
