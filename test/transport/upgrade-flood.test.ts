/**
 * Regression: TCP connections that never finish the HTTP upgrade were held
 * for the 10 s head timeout without a cap; 2,000 of them exhausted the file
 * descriptors and broke every session. The executor runs here with 512
 * descriptors, and 600 idle sockets flood it: the oldest beyond the caps are
 * closed at once, established sessions keep working, a new client gets in.
 */
import { afterEach, expect, setDefaultTimeout, test } from "bun:test";
import { type Socket, connect } from "node:net";
import { MAX_WS_CONNECTIONS } from "../../src/server/limits.ts";
import { MAX_PENDING_UPGRADES, MAX_PENDING_UPGRADES_PER_SOURCE, sourceKey } from "../../src/transport/upgrade-gate.ts";
import { RawClient } from "../helpers/rpc-client.ts";
import { type RunningServer, execboxCommand, startServer } from "../helpers/server.ts";
import { waitUntil } from "../helpers/wait.ts";

setDefaultTimeout(60_000);

const FD_LIMIT = 512;
const FLOOD = 600;
/** Well inside the 10 s head timeout: only the caps can close sockets this soon. */
const PROMPTLY_MS = 5_000;

let server: RunningServer | null = null;
const flood: { sock: Socket; closed: boolean }[] = [];
afterEach(async () => {
  for (const f of flood.splice(0)) f.sock.destroy();
  await server?.stop("SIGKILL");
  server = null;
});

async function startLimited(): Promise<RunningServer> {
  server = await startServer([], { command: ["prlimit", `--nofile=${FD_LIMIT}:${FD_LIMIT}`, ...execboxCommand()] });
  return server;
}

/** Opens an idle socket from `localAddress` (every other one sends half a head), once the previous is accepted. */
async function idleSocket(url: string, localAddress: string, i: number): Promise<void> {
  const sock = connect({ host: "127.0.0.1", port: Number(new URL(url).port), localAddress });
  const entry = { sock, closed: false };
  flood.push(entry);
  sock.on("error", () => {});
  sock.on("close", () => (entry.closed = true));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`flood socket ${i} was not accepted`)), 2_000);
    sock.once("connect", () => {
      clearTimeout(timer);
      if (i % 2 === 1) sock.write("GET / HTTP/1.1\r\nHost: x\r\n");
      resolve();
    });
  });
}

/** An initialized client runs `echo` to its close. */
async function runsProcess(c: RawClient, processId: string): Promise<void> {
  const start = await c.call("process/start", { processId, argv: ["echo", "alive"], cwd: `file://${process.cwd()}`, env: {}, tty: false });
  expect(start.result).toEqual({ processId, sandboxType: "none" });
  await c.processDone(processId);
  expect(c.output(processId, "stdout").toString()).toBe("alive\n");
}

async function floodAndCheck(source: (i: number) => string, held: number): Promise<void> {
  const s = await startLimited();
  const established = await RawClient.websocket(s.url);
  await established.initialize();
  for (let i = 0; i < FLOOD; i++) await idleSocket(s.url, source(i), i);
  await waitUntil(() => flood.filter((f) => f.closed).length === FLOOD - held, PROMPTLY_MS, "the oldest idle sockets to be closed");
  // The oldest went; the newest are still held.
  expect(flood.map((f) => f.closed)).toEqual([...Array(FLOOD - held).fill(true), ...Array(held).fill(false)]);
  await runsProcess(established, "during-flood");
  const late = await RawClient.websocket(s.url);
  await late.initialize();
  await runsProcess(late, "new-client");
  // The new client, in the HTTP phase for a moment, may have taken the place of one more (the total cap).
  expect(flood.slice(FLOOD - held).filter((f) => f.closed).length).toBeLessThanOrEqual(1);
  late.close();
  established.close();
}

test("regression: 600 idle sockets from one source: all but the newest 16 closed at once; sessions keep working", async () => {
  await floodAndCheck(() => "127.0.0.2", MAX_PENDING_UPGRADES_PER_SOURCE);
});

test("regression: 600 idle sockets from 40 sources: all but the newest 128 closed at once; sessions keep working", async () => {
  // 15 per source, so only the total cap applies.
  await floodAndCheck((i) => `127.0.1.${1 + (i % 40)}`, MAX_PENDING_UPGRADES);
});

test(`established connections past ${MAX_WS_CONNECTIONS} are answered 503 before the upgrade`, async () => {
  const s = await startLimited();
  // One after another: more than 16 handshakes at once from one source would push out the oldest.
  const clients: RawClient[] = [];
  for (let i = 0; i < MAX_WS_CONNECTIONS; i++) clients.push(await RawClient.websocket(s.url));
  const refused = await fetch(s.url.replace("ws://", "http://"), {
    headers: { connection: "Upgrade", upgrade: "websocket", "sec-websocket-version": "13", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==" },
  });
  expect(refused.status).toBe(503);
  expect(await refused.text()).toBe(`too many connections: this executor serves at most ${MAX_WS_CONNECTIONS} at once`);
  clients[0]!.close();
  await clients[0]!.waitClosed();
  // The server sees the close a moment later; then one more may connect.
  let next: RawClient | null = null;
  await waitUntil(async () => (next = await RawClient.websocket(s.url).catch(() => null)) !== null, 5_000, "a free connection slot");
  await next!.initialize();
  for (const c of [...clients, next!]) c.close();
});

test("a source is an IPv4 address, or an IPv6 /64 (an IPv4-mapped address counts as IPv4)", () => {
  expect(sourceKey("127.0.0.2")).toBe("127.0.0.2");
  expect(sourceKey("2001:db8:1:2:3:4:5:6")).toBe("2001:db8:1:2::/64");
  expect(sourceKey("2001:0db8:0001:0002::9")).toBe("2001:db8:1:2::/64");
  expect(sourceKey("fe80::1")).toBe("fe80:0:0:0::/64");
  expect(sourceKey("::1")).toBe("0:0:0:0::/64");
  expect(sourceKey("::ffff:10.0.0.1")).toBe("10.0.0.1");
});
