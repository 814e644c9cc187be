/**
 * Sandboxing from the compiled executable alone: copied into an empty
 * directory (nothing beside it), it must enforce with bwrap + its seccomp
 * filter, run its own inner stage (PTY) and its own fs helper.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { copyFileSync, existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { compiledBinary } from "../helpers/binary.ts";
import { SANDBOX_ENV, special } from "../helpers/sandbox.ts";
import { type RunningServer, startServer, tempDir } from "../helpers/server.ts";
import { RawClient } from "../helpers/rpc-client.ts";

setDefaultTimeout(60_000);

const alone = tempDir("execbox-alone-");
const ws = tempDir("execbox-alone-ws-");
const outside = tempDir("execbox-alone-out-");
let server: RunningServer;
let c: RawClient;

beforeAll(async () => {
  const bin = join(alone.path, "execbox");
  copyFileSync(await compiledBinary(), bin);
  server = await startServer([], { command: [bin] });
  c = await RawClient.websocket(server.url);
  await c.initialize();
}, 120_000);
afterAll(async () => {
  c?.close();
  await server?.stop("SIGKILL");
  for (const d of [alone, ws, outside]) d[Symbol.dispose]();
});

const sandbox = () => ({
  permissions: {
    type: "managed",
    file_system: { type: "restricted", entries: [{ path: special("root"), access: "read" }, { path: special("project_roots"), access: "write" }] },
    network: "restricted",
  },
  cwd: ws.uri,
  workspaceRoots: [ws.uri],
  windowsSandboxLevel: "disabled",
});

test("the lone binary enforces: pipes (bwrap + filter), PTY (its inner stage), fs (its helper)", async () => {
  expect(readdirSync(alone.path)).toEqual(["execbox"]);
  const script = `echo in > in.txt; echo out > ${outside.path}/x; bash -c 'exec 3<>/dev/tcp/127.0.0.1/9'`;
  for (const tty of [false, true]) {
    const id = `p-${tty}`;
    const start = await c.call("process/start", { processId: id, argv: ["sh", "-c", script], cwd: ws.uri, env: SANDBOX_ENV, tty, sandbox: sandbox() });
    expect(start.result).toEqual({ processId: id, sandboxType: "linuxSeccomp" });
    const events = await c.processDone(id);
    const text = Buffer.concat([c.output(id, "stdout"), c.output(id, "stderr"), c.output(id, "pty")]).toString();
    expect(text).toContain("Read-only file system");
    expect(text).toContain("socket: Operation not permitted");
    expect(events.find((e) => e.method === "process/exited")!.params.sandboxDenied).toBe(true);
  }
  expect(readFileSync(join(ws.path, "in.txt"), "utf8")).toBe("in\n");
  expect(existsSync(join(outside.path, "x"))).toBe(false);
  expect((await c.call("fs/writeFile", { path: `${ws.uri}/fs.txt`, dataBase64: "aGk=", sandbox: sandbox() })).result).toEqual({});
  expect((await c.call("fs/writeFile", { path: `${outside.uri}/fs.txt`, dataBase64: "aGk=", sandbox: sandbox() })).error).toEqual({
    code: -32603,
    message: "Read-only file system (os error 30)",
  });
  expect(readdirSync(alone.path)).toEqual(["execbox"]);
});
