/**
 * The executor's log lines as an operator reads them: parsed from the stderr
 * of a real executor (the compiled binary under EXECBOX_BIN) that served a
 * client through the client library, then got SIGTERM.
 */
import { expect, setDefaultTimeout, test } from "bun:test";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { connectWebSocket } from "../../src/client/index.ts";
import { startServer, tempDir } from "../helpers/server.ts";
import { upgrade } from "../helpers/upgrade.ts";
import { waitUntil } from "../helpers/wait.ts";
import { VERSION } from "../../src/version.ts";

setDefaultTimeout(30_000);

const PEER = /^127\.0\.0\.1:\d+$/;
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

type Entry = Record<string, unknown> & { ts: string; level: string; msg: string };
const entries = (stderr: string): Entry[] => stderr.trimEnd().split("\n").map((line) => JSON.parse(line));

test("json at debug: startup, connection, process start and exit, disconnection and shutdown, one object per line", async () => {
  using dir = tempDir();
  await using server = await startServer(["--log-level", "debug", "--log-format", "json"]);
  const client = await connectWebSocket(server.url);
  const proc = await client.startProcess({ argv: ["sh", "-c", "printf hello"], cwd: dir.uri, env: { PATH: "/usr/bin:/bin" }, tty: false });
  expect(await proc.closed).toBe(0);
  await client.close();
  await waitUntil(() => server.stderr().includes('"msg":"client disconnected"'), 10_000, "the disconnection line");
  expect(await server.stop("SIGTERM")).toBe(0);

  const log = entries(server.stderr());
  for (const e of log) expect(e.ts).toMatch(ISO);
  const [started, connected, procStarted, procExited, disconnected, stopped, ...rest] = log;
  expect(rest).toEqual([]);
  expect(started).toEqual({ ts: started!.ts, level: "info", msg: "execbox started", version: VERSION, url: server.url, auth: "none", sandbox: "auto" });
  expect(connected).toMatchObject({ level: "info", msg: "client connected", transport: "websocket", session: client.sessionId, resumed: false });
  expect(connected!.peer).toMatch(PEER);
  expect(procStarted).toMatchObject({ level: "debug", msg: "process started", process: proc.id, argv0: "sh", tty: false, sandbox: "none" });
  expect(procExited).toMatchObject({ level: "debug", msg: "process exited", process: proc.id, pid: procStarted!.pid, exit_code: 0, bytes_out: 5 });
  expect(procExited!.duration_ms).toBeNumber();
  expect(disconnected).toMatchObject({ level: "info", msg: "client disconnected", peer: connected!.peer, session: client.sessionId, reason: "closed by the client (code 1000)" });
  expect(disconnected!.duration_ms).toBeNumber();
  // The closed client's session was detached (kept for a resume) until the shutdown ended it.
  expect(stopped).toEqual({ ts: stopped!.ts, level: "info", msg: "execbox stopped", signal: "SIGTERM", sessions_closed: 1 });
});

test("text at the default level (info): no debug lines; a failed login is a warning with the reason and the peer", async () => {
  using dir = tempDir();
  const tokenFile = join(dir.path, "token");
  writeFileSync(tokenFile, "a-capability-token-of-enough-bytes\n");
  chmodSync(tokenFile, 0o600);
  await using server = await startServer(["--ws-auth", "capability-token", "--ws-token-file", tokenFile]);
  expect(await upgrade(server.url, { authorization: "Bearer not-the-token" })).toEqual([401, "invalid websocket bearer token"]);
  const client = await connectWebSocket(server.url, { token: "a-capability-token-of-enough-bytes" });
  const proc = await client.startProcess({ argv: ["true"], cwd: dir.uri, env: {}, tty: false });
  expect(await proc.closed).toBe(0);
  await client.close();
  await waitUntil(() => server.stderr().includes("client disconnected"), 10_000, "the disconnection line");
  await server.stop("SIGINT");

  const lines = server.stderr().trimEnd().split("\n");
  const ts = String.raw`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z`;
  const url = server.url.replace(/[.]/g, "\\.");
  const expected = [
    new RegExp(`^${ts}  INFO execbox: execbox started version=${VERSION.replace(/[.]/g, "\\.")} url=${url} auth=capability-token sandbox=auto$`),
    new RegExp(`^${ts}  WARN execbox: refused an upgrade status=401 reason="invalid websocket bearer token" peer=127\\.0\\.0\\.1:\\d+$`),
    new RegExp(`^${ts}  INFO execbox: client connected transport=websocket peer=127\\.0\\.0\\.1:\\d+ session=${client.sessionId} resumed=false$`),
    new RegExp(`^${ts}  INFO execbox: client disconnected transport=websocket peer=127\\.0\\.0\\.1:\\d+ session=${client.sessionId} reason="closed by the client \\(code 1000\\)" duration_ms=\\d+$`),
    new RegExp(`^${ts}  INFO execbox: execbox stopped signal=SIGINT sessions_closed=1$`),
  ];
  expect(lines.length).toBe(expected.length);
  lines.forEach((line, i) => expect(line).toMatch(expected[i]!));
});
