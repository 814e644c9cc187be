/**
 * EXECBOX_<FLAG> variables set the compiled executor's flags; a flag on the
 * command line wins.
 */
import { afterEach, expect, setDefaultTimeout, test } from "bun:test";
import { compiledBinary } from "../helpers/binary.ts";
import { RawClient } from "../helpers/rpc-client.ts";
import { type RunningServer, startServer } from "../helpers/server.ts";

setDefaultTimeout(60_000);

const servers: RunningServer[] = [];
const clients: RawClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const s of servers.splice(0)) await s.stop("SIGKILL");
});

/** Initializes `n` sessions on the executor at `url`; the answer to the last one. */
async function initializeSessions(url: string, n: number) {
  let last;
  for (let i = 0; i < n; i++) {
    const c = await RawClient.websocket(url);
    clients.push(c);
    last = await c.call("initialize", { clientName: `c${i}` });
  }
  return last;
}

async function executor(args: string[], vars: Record<string, string>) {
  const server = await startServer(args, { command: [await compiledBinary()], env: { ...(process.env as Record<string, string>), ...vars } });
  servers.push(server);
  return server;
}

test("EXECBOX_MAX_SESSIONS=1 caps the compiled executor at one session", async () => {
  const server = await executor([], { EXECBOX_MAX_SESSIONS: "1" });
  expect((await initializeSessions(server.url, 2))!.error).toEqual({
    code: -32600,
    message: "initialize refused: this executor already holds 1 sessions, attached or detached (--max-sessions)",
  });
});

test("--max-sessions on the command line wins over EXECBOX_MAX_SESSIONS", async () => {
  const server = await executor(["--max-sessions", "2"], { EXECBOX_MAX_SESSIONS: "1" });
  expect((await initializeSessions(server.url, 2))!.error).toBeUndefined();
});
