/**
 * An executor that shuts down (SIGTERM) closes each client WebSocket with
 * 1001 "execbox shutting down": the client library stops at once and rejects
 * what is pending with ExecboxConnectionError reason "server-shutdown",
 * instead of retrying for its 75 s recovery deadline. A connection cut
 * without a close frame (a network failure) is still recovered.
 */
import { expect, setDefaultTimeout, test } from "bun:test";
import { type ClientState, ExecboxConnectionError, connectWebSocket } from "../../src/client/index.ts";
import { RECOVERY_DEADLINE_MS } from "../../src/client/client.ts";
import { startServer, tempDir } from "../helpers/server.ts";
import { startTcpProxy } from "../helpers/tcp-proxy.ts";
import { waitUntil } from "../helpers/wait.ts";

setDefaultTimeout(30_000);

/** How soon after SIGTERM the pending call must have failed (the close frame goes out first thing). */
const SHUTDOWN_NOTICE_MS = 1_000;

/** `promise`'s rejection, or a failure if it settles otherwise or not within `ms`. */
async function rejection(promise: Promise<unknown>, ms: number): Promise<unknown> {
  let timer: Timer | undefined;
  const late = new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`still pending after ${ms} ms`)), ms)));
  try {
    await Promise.race([promise.then(() => Promise.reject(new Error("resolved instead of rejecting"))), late]);
  } catch (e) {
    return e;
  } finally {
    clearTimeout(timer);
  }
}

test("a cut connection is recovered; the executor's SIGTERM then fails the pending call at once, typed server-shutdown", async () => {
  using dir = tempDir();
  await using server = await startServer();
  using proxy = startTcpProxy(server.url);
  // The default recovery deadline: without the shutdown notice the call would wait 75 s.
  const client = await connectWebSocket(proxy.url);
  expect(RECOVERY_DEADLINE_MS).toBe(75_000);
  const states: ClientState[] = [];
  client.on("state", (s) => states.push(s));
  const proc = await client.startProcess({ argv: ["sleep", "30"], cwd: dir.uri, env: { PATH: "/usr/bin:/bin" }, tty: false });
  const procFailed = proc.closed.catch((e) => e);

  // A network failure (no close frame): the client resumes the session, as before.
  expect(proxy.cut()).toBe(1);
  await waitUntil(() => states.includes("recovering") && client.state === "connected", 10_000, "the client to recover");
  expect((await client.call("process/read", { processId: proc.id, waitMs: 0 })).exited).toBe(false);

  // A long-poll read is retried across reconnects, so only the shutdown notice can end it early.
  const pending = client.call("process/read", { processId: proc.id, waitMs: 20_000 });
  const signalled = performance.now();
  server.proc.kill("SIGTERM");
  const error = await rejection(pending, SHUTDOWN_NOTICE_MS);
  const after = performance.now() - signalled;
  expect(error).toBeInstanceOf(ExecboxConnectionError);
  const e = error as ExecboxConnectionError;
  expect([e.reason, e.method, e.mayHaveApplied, e.message]).toEqual([
    "server-shutdown",
    "process/read",
    true,
    `the executor at ${proxy.url} is shutting down`,
  ]);
  expect(after).toBeLessThan(SHUTDOWN_NOTICE_MS);
  expect(client.state).toBe("failed");
  expect(states.at(-1)).toBe("failed");
  expect(((await procFailed) as ExecboxConnectionError).reason).toBe("server-shutdown");
  // Nothing is retried: no new connection reached the proxy.
  expect(proxy.accepted).toBe(2);
  expect(await server.proc.exited).toBe(0);
  // Calls after that fail at once too.
  expect(await client.call("environment/info").catch((x) => (x as ExecboxConnectionError).message)).toBe("the client is failed");
});
