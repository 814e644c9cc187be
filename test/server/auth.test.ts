/** WebSocket authentication: the capability-token and signed-JWT matrices, through a real executor. */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { createHash } from "node:crypto";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { RawClient } from "../helpers/rpc-client.ts";
import { jwt as signJwt, upgrade } from "../helpers/upgrade.ts";
import { waitUntil } from "../helpers/wait.ts";
import { type RunningServer, execboxCommand, startServer, tempDir } from "../helpers/server.ts";

setDefaultTimeout(30_000);

const dir = tempDir();
const TOKEN = "cap-token-0123456789";
const SECRET = "s".repeat(40);
afterAll(() => dir[Symbol.dispose]());

const jwt = (claims: Record<string, unknown>, { secret = SECRET, alg = "HS256" } = {}) => signJwt(claims, secret, { alg, typ: "JWT" });

const B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
/** A 32-byte signature's last base64url character carries 2 unused bits: flipping one decodes to the same bytes. */
function respellLastChar(token: string): string {
  const last = B64URL.indexOf(token.at(-1)!);
  return token.slice(0, -1) + B64URL[last ^ 1];
}

describe("capability token", () => {
  let server: RunningServer;
  beforeAll(async () => {
    writeFileSync(join(dir.path, "token"), `  ${TOKEN}\n`, { mode: 0o600 });
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
    writeFileSync(join(dir.path, "secret"), `${SECRET}\n`, { mode: 0o600 });
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
      ["two.parts", 401, "invalid websocket jwt"],
      // Regressions (accepted before): the same signature bytes spelled another way, a crit header, an absurd exp.
      // The client reads the reference's text (0.169.0 and 0.171.0 say exactly this where they refuse too);
      // the precise reason is logged.
      [respellLastChar(jwt(ok)), 401, "invalid websocket jwt"],
      [signJwt(ok, SECRET, { alg: "HS256", typ: "JWT", crit: ["exp"] }), 401, "invalid websocket jwt"],
      [jwt({ ...ok, exp: 1e300 }), 401, "invalid websocket jwt"],
      [jwt({ ...ok, exp: -1 }), 401, "expired websocket jwt"],
    ];
    for (const [token, status, body] of cases) {
      expect([token, ...(await upgrade(server.url, { authorization: `Bearer ${token}` }))]).toEqual([token, status, body]);
    }
    expect(server.stderr()).not.toContain(SECRET);
    for (const reason of ["invalid websocket jwt encoding", "unsupported critical websocket jwt header", "invalid websocket jwt exp claim"]) {
      expect(server.stderr()).toContain(`execbox: refused an upgrade status=401 reason=${JSON.stringify(reason)} peer=127.0.0.1:`);
    }
  });
});

describe("flag validation", () => {
  const run = async (args: string[]) => {
    const proc = Bun.spawn([...execboxCommand(), ...args], {
      stdout: "pipe",
      stderr: "pipe",
      // A server that starts instead of refusing must not outlive the test.
      timeout: 10_000,
      killSignal: "SIGKILL",
    });
    const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
    return [code, stderr.trim()];
  };
  test("the reference's refusals, and a short signed secret", async () => {
    writeFileSync(join(dir.path, "short"), "short-secret", { mode: 0o600 });
    writeFileSync(join(dir.path, "empty"), "  \n", { mode: 0o600 });
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
  test("stricter than the reference: a short capability token or a secret file group or others can access is refused at startup", async () => {
    const file = (name: string, content: string, mode: number) => {
      const path = join(dir.path, name);
      writeFileSync(path, content);
      chmodSync(path, mode); // explicit: the umask would strip group bits from a create mode
      return path;
    };
    const tooOpen = (path: string, mode: string) => `websocket auth secret ${path} is accessible by group or others (permissions ${mode}); run \`chmod 600 ${path}\``;
    const cap = ["--ws-auth", "capability-token", "--ws-token-file"];
    const signed = ["--ws-auth", "signed-bearer-token", "--ws-shared-secret-file"];
    const oneByte = file("one-byte", "x\n", 0o600);
    const fifteen = file("fifteen", " 0123456789abcde \n", 0o600);
    const cases: [string[], string][] = [
      [[...cap, oneByte], `websocket capability token ${oneByte} must be at least 16 bytes`],
      [[...cap, fifteen], `websocket capability token ${fifteen} must be at least 16 bytes`],
      [[...cap, file("world-token", TOKEN, 0o644)], tooOpen(join(dir.path, "world-token"), "0644")],
      [[...cap, file("group-token", TOKEN, 0o640)], tooOpen(join(dir.path, "group-token"), "0640")],
      [[...cap, file("group-write-token", TOKEN, 0o620)], tooOpen(join(dir.path, "group-write-token"), "0620")],
      [[...signed, file("world-secret", SECRET, 0o604)], tooOpen(join(dir.path, "world-secret"), "0604")],
      [[...signed, file("group-secret", SECRET, 0o660)], tooOpen(join(dir.path, "group-secret"), "0660")],
    ];
    for (const [args, message] of cases) expect([args, ...(await run(args))]).toEqual([args, 1, `Error: ${message}`]);
    // The boundary: 16 bytes, readable by the owner only, is accepted.
    await using ok = await startServer([...cap, file("sixteen", "0123456789abcdef\n", 0o400)]);
    expect(await upgrade(ok.url, { authorization: "Bearer 0123456789abcdef" })).toEqual([101, "upgraded"]);
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
