/**
 * `--listen wss://` against the real executable: Bun's TLS with a throwaway
 * CA made by openssl in a temp dir, certificate reload on SIGHUP, the usage
 * errors, and the same auth rules as ws://.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { X509Certificate } from "node:crypto";
import { connect as netConnect } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { chmodSync, copyFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type ClientState, connectWebSocket } from "../../src/client/index.ts";
import { HTTP_HEAD_TIMEOUT_MS } from "../../src/transport/websocket.ts";
import { type TestCa, makeTestCa } from "../http/test-ca.ts";
import { execboxCommand, startServer, tempDir } from "../helpers/server.ts";
import { waitUntil } from "../helpers/wait.ts";

let first: TestCa;
let second: TestCa;
beforeAll(() => {
  first = makeTestCa(["IP:127.0.0.1"]);
  second = makeTestCa(["IP:127.0.0.1"]);
});
afterAll(() => {
  first?.dispose();
  second?.dispose();
});

/** cert.pem / key.pem in `dir`, from `ca`'s server certificate. */
function install(dir: string, ca: TestCa): { cert: string; key: string } {
  const files = { cert: join(dir, "cert.pem"), key: join(dir, "key.pem") };
  copyFileSync(join(ca.dir, "srv.pem"), files.cert);
  copyFileSync(join(ca.dir, "srv.key"), files.key);
  chmodSync(files.key, 0o600);
  return files;
}

/** The log lines mentioning `word`, without their timestamps. */
function logLines(stderr: string, word: string): string[] {
  return stderr.split("\n").filter((l) => l.includes(word)).map((l) => l.replace(/^\S+\s+/, ""));
}

function startWss(files: { cert: string; key: string }, extra: string[] = []) {
  return startServer(["--tls-cert", files.cert, "--tls-key", files.key, ...extra], { listen: "wss://127.0.0.1:0" });
}

/** The SHA-256 fingerprint of the certificate a fresh TLS handshake with `url` gets. */
function servedFingerprint(url: string, cas: string[]): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: hostname, port: Number(port), ca: cas }, () => {
      resolve(socket.getPeerCertificate().fingerprint256);
      socket.destroy();
    });
    socket.on("error", reject);
  });
}

const fingerprintOf = (ca: TestCa) => new X509Certificate(ca.cert).fingerprint256;

async function run(args: string[]) {
  const proc = Bun.spawn([...execboxCommand(), ...args], { stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stderr, stdout };
}

describe("--listen wss://", () => {
  test("a client trusting the CA completes the TLS handshake and an initialize round trip", async () => {
    using dir = tempDir();
    await using server = await startWss(install(dir.path, first));
    expect(server.url).toMatch(/^wss:\/\/127\.0\.0\.1:\d+$/);
    const client = await connectWebSocket(server.url, { tls: { ca: first.ca } });
    try {
      const info = (await client.call("environment/info")) as { cwd?: string };
      expect(info.cwd).toStartWith("file:///");
    } finally {
      await client.close();
    }
    expect(await servedFingerprint(server.url, [first.ca])).toBe(fingerprintOf(first));
  });

  test("a client without the CA is refused by the handshake", async () => {
    using dir = tempDir();
    await using server = await startWss(install(dir.path, first));
    const error = await connectWebSocket(server.url).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toBe(
      `cannot connect to ${server.url}: WebSocket connection to '${server.url}/' failed: TLS handshake failed: unable to verify the first certificate`,
    );
  });

  test("SIGHUP re-reads the files: new handshakes get the new certificate, an open connection stays", async () => {
    using dir = tempDir();
    const files = install(dir.path, first);
    await using server = await startWss(files);
    const both = { tls: { ca: [first.ca, second.ca] } };
    const held = await connectWebSocket(server.url, both);
    const states: ClientState[] = [];
    held.on("state", (s) => states.push(s));
    try {
      install(dir.path, second);
      server.proc.kill("SIGHUP");
      await waitUntil(() => server.stderr().includes("reloaded TLS certificate"), 10_000, "the reload line");
      expect(logLines(server.stderr(), "TLS")).toEqual([`INFO execbox: reloaded TLS certificate cert=${files.cert} sha256=${fingerprintOf(second)}`]);
      expect(await servedFingerprint(server.url, [first.ca, second.ca])).toBe(fingerprintOf(second));
      // The connection made before the reload still answers, and never had to reconnect.
      expect(((await held.call("environment/info")) as { cwd?: string }).cwd).toStartWith("file:///");
      expect(states).toEqual([]);
      const fresh = await connectWebSocket(server.url, { tls: { ca: second.ca } });
      await fresh.close();
    } finally {
      await held.close();
    }
  });

  test("a reload from a bad file keeps serving the old certificate and says so in one line", async () => {
    using dir = tempDir();
    const files = install(dir.path, first);
    await using server = await startWss(files);
    writeFileSync(files.cert, "not a certificate\n");
    server.proc.kill("SIGHUP");
    await waitUntil(() => server.stderr().includes("TLS reload failed"), 10_000, "the failure line");
    expect(logLines(server.stderr(), "TLS")).toEqual([
      `ERROR execbox: TLS reload failed, still serving the previous certificate reason="TLS certificate ${files.cert} holds no PEM certificate"`,
    ]);
    expect(await servedFingerprint(server.url, [first.ca])).toBe(fingerprintOf(first));
    expect(server.proc.exitCode).toBeNull();
  });

  test("wss beyond loopback needs --ws-auth as ws does; with a capability token the client connects", async () => {
    using dir = tempDir();
    const files = install(dir.path, first);
    const tls = ["--tls-cert", files.cert, "--tls-key", files.key];
    expect(await run(["--listen", "wss://0.0.0.0:0", ...tls])).toEqual({
      code: 1,
      stderr: "Error: refusing to listen on non-loopback address 0.0.0.0 without --ws-auth; pass --allow-unauthenticated to accept anyone who can reach it\n",
      stdout: "",
    });
    const tokenFile = join(dir.path, "token");
    writeFileSync(tokenFile, "wss-capability-token-0123456789\n", { mode: 0o600 });
    await using server = await startWss(files, ["--ws-auth", "capability-token", "--ws-token-file", tokenFile]);
    const refused = await connectWebSocket(server.url, { tls: { ca: first.ca }, connectTimeoutMs: 5_000 }).then(
      () => "connected",
      (e: Error) => e.message,
    );
    expect(refused).toBe(`cannot connect to ${server.url}: the executor refused the upgrade (401 Unauthorized)`);
    const client = await connectWebSocket(server.url, { tls: { ca: first.ca }, token: "wss-capability-token-0123456789" });
    await client.close();
  });

  test("usage errors: one line naming the flag or file, exit 1", async () => {
    using dir = tempDir();
    const files = install(dir.path, first);
    const missing = join(dir.path, "missing.pem");
    writeFileSync(join(dir.path, "other.key"), second.key);
    const cases: [string[], string][] = [
      [["--listen", "wss://127.0.0.1:0"], "`--listen wss://…` requires both `--tls-cert <PEM_FILE>` and `--tls-key <PEM_FILE>`"],
      [["--listen", "wss://127.0.0.1:0", "--tls-cert", files.cert], "`--listen wss://…` requires both `--tls-cert <PEM_FILE>` and `--tls-key <PEM_FILE>`"],
      [["--listen", "ws://127.0.0.1:0", "--tls-cert", files.cert, "--tls-key", files.key], "`--tls-cert` and `--tls-key` require `--listen wss://IP:PORT`"],
      [["--tls-key", files.key], "`--tls-cert` and `--tls-key` require `--listen wss://IP:PORT`"],
      [["--listen", "wss://127.0.0.1:0", "--tls-cert", missing, "--tls-key", files.key], `cannot read TLS certificate ${missing}: No such file or directory (os error 2)`],
      [["--listen", "wss://127.0.0.1:0", "--tls-cert", files.key, "--tls-key", files.key], `TLS certificate ${files.key} holds no PEM certificate`],
      [["--listen", "wss://127.0.0.1:0", "--tls-cert", files.cert, "--tls-key", files.cert], `TLS key ${files.cert} holds no unencrypted PEM private key`],
      [
        ["--listen", "wss://127.0.0.1:0", "--tls-cert", files.cert, "--tls-key", join(dir.path, "other.key")],
        `TLS key ${join(dir.path, "other.key")} does not belong to the certificate in ${files.cert}`,
      ],
    ];
    for (const [args, message] of cases) {
      expect(await run(args)).toEqual({ code: 1, stderr: `Error: ${message}\n`, stdout: "" });
    }
  });

  test("execbox exec --url wss://… --ca-file runs a command; without the CA it cannot connect (exit 255)", async () => {
    using dir = tempDir();
    await using server = await startWss(install(dir.path, first));
    const exec = ["exec", "--url", server.url, "--no-stdin"];
    expect(await run([...exec, "--ca-file", first.caFile, "--", "sh", "-c", "echo over-wss; exit 3"])).toEqual({ code: 3, stderr: "", stdout: "over-wss\n" });
    const untrusted = await run([...exec, "--", "true"]);
    expect([untrusted.code, untrusted.stdout]).toEqual([255, ""]);
    expect(untrusted.stderr).toContain(`cannot connect to ${server.url}: WebSocket connection to '${server.url}/' failed: TLS handshake failed: unable to verify the first certificate\n`);
    const plain = await run(["exec", "--url", "ws://127.0.0.1:1", "--ca-file", first.caFile, "--", "true"]);
    expect(plain).toEqual({ code: 1, stderr: "Error: `--ca-file` requires a `wss://` --url\n", stdout: "" });
  });

  test("escape: a sandboxed read of the TLS key is denied (bwrap masks it like the token files)", async () => {
    using dir = tempDir();
    const files = install(dir.path, first);
    await using server = await startWss(files, ["--sandbox-backend", "bwrap"]);
    const client = await connectWebSocket(server.url, { tls: { ca: first.ca } });
    try {
      const sandbox = {
        permissions: {
          type: "managed",
          file_system: { type: "restricted", entries: [{ path: { type: "special", value: { kind: "root" } }, access: "read" }] },
          network: "restricted",
        },
        cwd: dir.uri,
        workspaceRoots: [dir.uri],
        windowsSandboxLevel: "disabled",
      };
      const read = (path: string) => client.call("fs/readFile", { path: `file://${path}`, sandbox } as never).then(() => "read", (e: Error & { code?: number }) => `${e.code} ${e.message}`);
      expect(await read(files.key)).toBe("-32600 Permission denied (os error 13)");
      expect(await read(files.cert)).toBe("read");
    } finally {
      await client.close();
    }
  });

  test(
    "a client that never starts the TLS handshake is dropped after HTTP_HEAD_TIMEOUT_MS",
    async () => {
      using dir = tempDir();
      await using server = await startWss(install(dir.path, first));
      const { port } = new URL(server.url);
      const started = Date.now();
      const socket = netConnect(Number(port), "127.0.0.1");
      socket.on("error", () => {});
      await new Promise<void>((resolve, reject) => {
        socket.on("close", () => resolve());
        setTimeout(() => reject(new Error("still open after the head timeout")), HTTP_HEAD_TIMEOUT_MS + 5_000);
      });
      expect(Date.now() - started).toBeGreaterThanOrEqual(HTTP_HEAD_TIMEOUT_MS - 100);
    },
    HTTP_HEAD_TIMEOUT_MS + 10_000,
  );
});
