/**
 * The attack: a sandboxed command with the network open connects to the
 * executor that started it (loopback needs no token) and asks it for an
 * unsandboxed process that writes outside the sandbox's writable roots.
 * The command is execbox's own client, `execbox exec`, run inside the
 * sandbox against the executor's URL.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { SANDBOX_ENV, special } from "../helpers/sandbox.ts";
import { RawClient } from "../helpers/rpc-client.ts";
import { type RunningServer, execboxCommand, startServer, tempDir } from "../helpers/server.ts";

setDefaultTimeout(60_000);

const ws = tempDir("execbox-reach-ws-");
const outside = tempDir("execbox-reach-out-");
let server: RunningServer;
let c: RawClient;

beforeAll(async () => {
  server = await startServer();
  c = await RawClient.websocket(server.url);
  await c.initialize();
});
afterAll(async () => {
  c?.close();
  await server?.stop("SIGKILL");
  ws[Symbol.dispose]();
  outside[Symbol.dispose]();
});

/** Read everything, write only the workspace, network as given. */
const sandbox = (network: string) => ({
  permissions: {
    type: "managed",
    file_system: { type: "restricted", entries: [{ path: special("root"), access: "read" }, { path: special("project_roots"), access: "write" }] },
    network,
  },
  cwd: ws.uri,
  workspaceRoots: [ws.uri],
  windowsSandboxLevel: "disabled",
});

let n = 0;
/** Runs `execbox exec --url <executor> -- sh -c 'echo pwned > <target>'` as a process of the executor, under `box`. */
async function attack(target: string, box: object | null): Promise<{ exitCode: number; text: string }> {
  const id = `attack-${n++}`;
  const argv = [...execboxCommand(), "exec", "--url", server.url, "--no-stdin", "--", "sh", "-c", `echo pwned > ${target}`];
  await c.ok("process/start", { processId: id, argv, cwd: ws.uri, env: SANDBOX_ENV, tty: false, sandbox: box });
  const events = await c.processDone(id);
  const text = Buffer.concat([c.output(id, "stdout"), c.output(id, "stderr")]).toString();
  return { exitCode: events.find((e) => e.method === "process/exited")!.params.exitCode, text };
}

test("the channel is real: unsandboxed, the same command drives the executor", async () => {
  const target = join(outside.path, "unsandboxed");
  const r = await attack(target, null);
  expect(r).toEqual({ exitCode: 0, text: "" });
  expect(existsSync(target)).toBe(true);
});

test("from a sandbox with the network open, the executor refuses the connection (403) and nothing runs", async () => {
  const target = join(outside.path, "escaped");
  const r = await attack(target, sandbox("enabled"));
  expect(existsSync(target)).toBe(false);
  expect(r.exitCode).toBe(255);
  expect(r.text).toContain("403");
  expect(server.stderr()).toContain('refused a connection status=403 reason="the connection comes from inside an execbox sandbox" peer=127.0.0.1:');
  // The executor still serves its real client.
  expect((await c.ok("environment/status")).status).toBe("ready");
});

test("from a sandbox with the network cut, the executor is not even reachable", async () => {
  const target = join(outside.path, "cut");
  const r = await attack(target, sandbox("restricted"));
  expect(existsSync(target)).toBe(false);
  expect(r.exitCode).toBe(255);
});

test("a managed-network sandbox may not be bridged to the executor's own port", async () => {
  const port = Number(new URL(server.url).port);
  const start = await c.call("process/start", {
    processId: "bridge-self",
    argv: ["true"],
    cwd: ws.uri,
    env: SANDBOX_ENV,
    tty: false,
    sandbox: sandbox("restricted"),
    enforceManagedNetwork: true,
    managedNetwork: { loopbackPorts: [port] },
  });
  expect(start.error).toEqual({
    code: -32602,
    message: `sandbox intent cannot be enforced on this executor: managedNetwork.loopbackPorts includes ${port}, this executor's own port`,
  });
});

test("Landlock: an open network is refused while the listener takes unauthenticated peers", async () => {
  await using landlock = await startServer(["--sandbox-backend", "landlock"]);
  const client = await RawClient.websocket(landlock.url);
  await client.initialize();
  const start = await client.call("process/start", { processId: "ll", argv: ["true"], cwd: ws.uri, env: SANDBOX_ENV, tty: false, sandbox: sandbox("enabled") });
  expect(start.error?.code).toBe(-32602);
  expect(start.error?.message).toContain("an open network under Landlock could reach this executor's unauthenticated listener");
  client.close();
});
