/** `GET /metrics`: Prometheus text after known traffic, behind the WebSocket's authentication. */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import { writeFileSync } from "node:fs";
import { RawClient } from "../helpers/rpc-client.ts";
import { type RunningServer, startServer, tempDir } from "../helpers/server.ts";
import { waitUntil } from "../helpers/wait.ts";

setDefaultTimeout(30_000);

const dir = tempDir();
const TOKEN = "metrics-token-0123456789";
const AUTH = { authorization: `Bearer ${TOKEN}` };
let server: RunningServer;

beforeAll(async () => {
  writeFileSync(join(dir.path, "token"), TOKEN, { mode: 0o600 });
  server = await startServer(["--ws-auth", "capability-token", "--ws-token-file", join(dir.path, "token")]);
});
afterAll(async () => {
  await server?.stop("SIGKILL");
  dir[Symbol.dispose]();
});

const metricsUrl = () => `${server.url.replace("ws://", "http://")}/metrics`;

/** The samples of a scrape: `name{labels}` → value. */
async function scrape(): Promise<Map<string, number>> {
  const res = await fetch(metricsUrl(), { headers: AUTH });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
  const samples = new Map<string, number>();
  for (const line of (await res.text()).split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const at = line.lastIndexOf(" ");
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return samples;
}

test("without the token: 401 with the upgrade's text; other methods 405; an Origin 403", async () => {
  const res = await fetch(metricsUrl());
  expect([res.status, await res.text()]).toEqual([401, "missing websocket bearer token"]);
  const wrong = await fetch(metricsUrl(), { headers: { authorization: "Bearer not-the-token-at-all" } });
  expect([wrong.status, await wrong.text()]).toEqual([401, "invalid websocket bearer token"]);
  const post = await fetch(metricsUrl(), { method: "POST", headers: AUTH });
  expect([post.status, post.headers.get("allow")]).toEqual([405, "GET"]);
  const web = await fetch(metricsUrl(), { headers: { ...AUTH, origin: "https://example.com" } });
  expect(web.status).toBe(403);
});

test("exact counters after 3 process/start, one failing request and a disconnect", async () => {
  const client = await RawClient.websocket(server.url, AUTH);
  await client.initialize();
  const start = (processId: string, argv: string[]) =>
    client.call("process/start", { processId, argv, cwd: dir.uri, env: { PATH: process.env.PATH }, tty: false });
  for (const id of ["p1", "p2", "p3"]) {
    expect((await start(id, ["printf", "abc"])).result.processId).toBe(id);
    await client.processDone(id);
  }
  expect((await start("bad", [])).error).toEqual({ code: -32602, message: "argv must not be empty" });
  expect((await client.call("no/such-method")).error.code).toBe(-32601);

  // A process counts as exited once it closed; wait for the last one to be counted.
  await waitUntil(async () => (await scrape()).get("execbox_processes_exited_total") === 3, 10_000, "3 exited processes");
  const m = await scrape();
  const expected: Record<string, number> = {
    "execbox_connections": 1,
    "execbox_connections_total": 1,
    'execbox_sessions{state="attached"}': 1,
    'execbox_sessions{state="detached"}': 0,
    'execbox_requests_total{method="initialize",outcome="ok"}': 1,
    'execbox_requests_total{method="process/start",outcome="ok"}': 3,
    'execbox_requests_total{method="process/start",outcome="error"}': 1,
    'execbox_requests_total{method="unknown",outcome="error"}': 1,
    'execbox_request_duration_seconds_count{method="process/start"}': 4,
    'execbox_request_duration_seconds_bucket{method="process/start",le="+Inf"}': 4,
    "execbox_processes_running": 0,
    "execbox_processes_started_total": 3,
    "execbox_processes_exited_total": 3,
    "execbox_output_bytes_total": 9,
  };
  for (const [name, value] of Object.entries(expected)) expect([name, m.get(name)]).toEqual([name, value]);
  expect(m.get("execbox_backpressure_waits_total")).toBeNumber();

  client.close();
  await waitUntil(async () => (await scrape()).get("execbox_connections") === 0, 10_000, "the connection to close");
  const after = await scrape();
  expect([after.get('execbox_sessions{state="attached"}'), after.get('execbox_sessions{state="detached"}')]).toEqual([0, 1]);
});
