/** WebSocket authentication: the capability-token and signed-JWT matrices, through a real executor. */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { createHash, createHmac } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { RawClient } from "../helpers/rpc-client.ts";
import { waitUntil } from "../helpers/wait.ts";
import { type RunningServer, startServer, tempDir } from "../helpers/server.ts";

setDefaultTimeout(30_000);

const dir = tempDir();
const TOKEN = "cap-token-0123456789";
const SECRET = "s".repeat(40);
afterAll(() => dir[Symbol.dispose]());

/** Upgrade with the given headers; returns the HTTP status and body (101 → "upgraded"). */
async function upgrade(url: string, headers: Record<string, string>): Promise<[number, string]> {
  const res = await fetch(url.replace("ws://", "http://"), {
    headers: { connection: "Upgrade", upgrade: "websocket", "sec-websocket-version": "13", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==", ...headers },
  });
  return [res.status, res.status === 101 ? "upgraded" : await res.text()];
}

function jwt(claims: Record<string, unknown>, { secret = SECRET, alg = "HS256" } = {}): string {
  const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const head = enc({ alg, typ: "JWT" });
  const body = enc(claims);
  const sig = createHmac(alg === "HS512" ? "sha512" : "sha256", secret).update(`${head}.${body}`).digest("base64url");
  return `${head}.${body}.${sig}`;
}

describe("capability token", () => {
  let server: RunningServer;
  beforeAll(async () => {
    writeFileSync(join(dir.path, "token"), `  ${TOKEN}\n`);
    server = await startServer(["--ws-auth", "capability-token", "--ws-token-file", join(dir.path, "token")]);
  });
  afterAll(() => server.stop("SIGKILL"));

  test("matrix", async () => {
    const cases: [Record<string, string>, number, string][] = [
      [{}, 401, "missing websocket bearer token"],
      [{ authorization: TOKEN }, 401, "invalid authorization header"],
      [{ authorization: `Basic ${TOKEN}` }, 401, "invalid authorization header"],
      [{ authorization: "Bearer    " }, 401, "invalid authorization header"],
      [{ authorization: "Bearer wrong" }, 401, "invalid websocket bearer token"],
      [{ authorization: `Bearer ${TOKEN}x` }, 401, "invalid websocket bearer token"],
      [{ authorization: `bearer   ${TOKEN}  ` }, 101, "upgraded"],
      [{ authorization: `Bearer ${TOKEN}`, origin: "http://127.0.0.1" }, 403, ""],
    ];
    for (const [headers, status, body] of cases) expect([headers, ...(await upgrade(server.url, headers))]).toEqual([headers, status, body]);
    expect((await fetch(`${server.url.replace("ws://", "http://")}/readyz`)).status).toBe(200);
    expect(server.stderr()).not.toContain(TOKEN);
  });

  test("a client with the token works end to end; ?token= in the query does not count", async () => {
    const c = await RawClient.websocket(server.url, { authorization: `Bearer ${TOKEN}` });
    await c.initialize();
    expect(await c.ok("environment/status")).toEqual({ status: "ready" });
    c.close();
    expect(await upgrade(`${server.url}/?token=${TOKEN}`, {})).toEqual([401, "missing websocket bearer token"]);
  });

  test("--ws-token-sha256 works the same", async () => {
    const digest = createHash("sha256").update(TOKEN).digest("hex");
    await using other = await startServer(["--ws-auth", "capability-token", "--ws-token-sha256", digest]);
    expect(await upgrade(other.url, { authorization: `Bearer ${TOKEN}` })).toEqual([101, "upgraded"]);
    expect(await upgrade(other.url, { authorization: "Bearer nope" })).toEqual([401, "invalid websocket bearer token"]);
  });
});

describe("signed bearer token", () => {
  let server: RunningServer;
  const now = () => Math.floor(Date.now() / 1000);
  beforeAll(async () => {
    writeFileSync(join(dir.path, "secret"), `${SECRET}\n`);
    server = await startServer([
      "--ws-auth", "signed-bearer-token", "--ws-shared-secret-file", join(dir.path, "secret"),
      "--ws-issuer", "issuer-a", "--ws-audience", "execbox", "--ws-max-clock-skew-seconds", "10",
    ]);
  });
  afterAll(() => server.stop("SIGKILL"));

  test("matrix", async () => {
    const ok = { iss: "issuer-a", aud: "execbox", exp: now() + 60 };
    const cases: [string, number, string][] = [
      [jwt(ok), 101, "upgraded"],
      [jwt({ ...ok, aud: ["other", "execbox"] }), 101, "upgraded"],
      [jwt({ ...ok, exp: now() - 5 }), 101, "upgraded"],
      [jwt({ ...ok, exp: now() - 60 }), 401, "expired websocket jwt"],
      [jwt({ ...ok, nbf: now() + 5 }), 101, "upgraded"],
      [jwt({ ...ok, nbf: now() + 60 }), 401, "websocket jwt is not valid yet"],
      [jwt({ ...ok, iss: "issuer-b" }), 401, "websocket jwt issuer mismatch"],
      [jwt({ aud: "execbox", exp: now() + 60 }), 401, "websocket jwt issuer mismatch"],
      [jwt({ ...ok, aud: "other" }), 401, "websocket jwt audience mismatch"],
      [jwt({ iss: "issuer-a", aud: "execbox" }), 401, "invalid websocket jwt"],
      [jwt(ok, { secret: "x".repeat(40) }), 401, "invalid websocket jwt"],
      [jwt(ok, { alg: "HS512" }), 401, "invalid websocket jwt"],
      ["not.a.jwt", 401, "invalid websocket jwt"],
    ];
    for (const [token, status, body] of cases) {
      expect([token, ...(await upgrade(server.url, { authorization: `Bearer ${token}` }))]).toEqual([token, status, body]);
    }
    expect(server.stderr()).not.toContain(SECRET);
  });
});

describe("flag validation", () => {
  const run = async (args: string[]) => {
    const proc = Bun.spawn([...(process.env.EXECBOX_BIN ? [process.env.EXECBOX_BIN] : [process.execPath, join(import.meta.dir, "../../src/cli/main.ts")]), ...args], { stdout: "pipe", stderr: "pipe" });
    const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
    return [code, stderr.trim()];
  };
  test("the reference's refusals, and a short signed secret", async () => {
    writeFileSync(join(dir.path, "short"), "short-secret");
    writeFileSync(join(dir.path, "empty"), "  \n");
    const cases: [string[], string][] = [
      [["--ws-token-file", "x"], "websocket auth flags require `--ws-auth capability-token` or `--ws-auth signed-bearer-token`"],
      [["--ws-auth", "capability-token"], "`--ws-token-file` or `--ws-token-sha256` is required when `--ws-auth capability-token` is set"],
      [["--ws-auth", "capability-token", "--ws-token-file", "a", "--ws-token-sha256", "b"], "`--ws-token-file` and `--ws-token-sha256` are mutually exclusive"],
      [["--ws-auth", "signed-bearer-token", "--ws-token-sha256", "b"], "`--ws-token-file` and `--ws-token-sha256` require `--ws-auth capability-token`, not `signed-bearer-token`"],
      [["--ws-auth", "capability-token", "--ws-issuer", "i"], "`--ws-shared-secret-file`, `--ws-issuer`, `--ws-audience`, and `--ws-max-clock-skew-seconds` require `--ws-auth signed-bearer-token`"],
      [["--ws-auth", "signed-bearer-token"], "`--ws-shared-secret-file` is required when `--ws-auth signed-bearer-token` is set"],
      [["--ws-auth", "capability-token", "--ws-token-sha256", "abc"], "--ws-token-sha256 must be a 64-character hex SHA-256 digest"],
      [["--ws-auth", "capability-token", "--ws-token-file", join(dir.path, "missing")], `failed to read websocket auth secret ${join(dir.path, "missing")}: No such file or directory (os error 2)`],
      [["--ws-auth", "capability-token", "--ws-token-file", join(dir.path, "empty")], `websocket auth secret ${join(dir.path, "empty")} must not be empty`],
      [["--ws-auth", "signed-bearer-token", "--ws-shared-secret-file", join(dir.path, "short")], `signed websocket bearer secret ${join(dir.path, "short")} must be at least 32 bytes`],
    ];
    for (const [args, message] of cases) expect([args, ...(await run(args))]).toEqual([args, 1, `Error: ${message}`]);
  });
  test("safer than the reference: a non-loopback bind needs --ws-auth or an explicit --allow-unauthenticated", async () => {
    const [code, stderr] = await run(["--listen", "ws://0.0.0.0:0"]);
    expect(code).toBe(1);
    expect(stderr).toContain("refusing to listen on non-loopback address 0.0.0.0 without --ws-auth");
    await using open = await startServer(["--listen", "ws://0.0.0.0:0", "--allow-unauthenticated"]);
    expect(open.url).toMatch(/^ws:\/\/0\.0\.0\.0:\d+$/);
    await waitUntil(() => open.stderr().includes("accepts unauthenticated connections"), 5000, "the warning");
  });
});
