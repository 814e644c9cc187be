/**
 * The client library's typed failures against a real executor: a refused
 * upgrade is an ExecboxAuthError (401/403), an unreachable one an
 * ExecboxConnectionError, a program that cannot be spawned an
 * ExecboxSpawnError with its kind (pipes and PTY alike).
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  type ExecboxClient,
  ExecboxAuthError,
  ExecboxConnectionError,
  ExecboxRpcError,
  ExecboxSpawnError,
  type SpawnErrorKind,
  connectWebSocket,
} from "../../src/client/index.ts";
import { rpcError } from "../../src/client/errors.ts";
import { closedPortUrl } from "../helpers/closed-port.ts";
import { type RunningServer, startServer, tempDir } from "../helpers/server.ts";

// Integration tests start real servers and processes; each wait inside has its own deadline.
setDefaultTimeout(30_000);

const dir = tempDir();
const TOKEN = "tok-1234567890abcdef";
let server: RunningServer;
let client: ExecboxClient;

beforeAll(async () => {
  writeFileSync(join(dir.path, "token"), `${TOKEN}\n`, { mode: 0o600 });
  writeFileSync(join(dir.path, "noexec"), "#!/bin/sh\n", { mode: 0o644 });
  server = await startServer(["--ws-auth", "capability-token", "--ws-token-file", join(dir.path, "token")]);
  client = await connectWebSocket(server.url, { token: TOKEN });
});
afterAll(async () => {
  await client?.close();
  await server?.stop("SIGTERM");
  dir[Symbol.dispose]();
});

describe("connect failures", () => {
  test("401 without a token or with a wrong one: ExecboxAuthError (an ExecboxConnectionError) with the status", async () => {
    for (const options of [{}, { token: "tok-wrong-wrong-wrong" }]) {
      const err = await connectWebSocket(server.url, options).catch((e) => e);
      expect(err).toBeInstanceOf(ExecboxAuthError);
      expect(err).toBeInstanceOf(ExecboxConnectionError);
      expect({ status: err.status, url: err.url, message: err.message }).toEqual({
        status: 401,
        url: server.url,
        message: `cannot connect to ${server.url}: the executor refused the upgrade (401 Unauthorized)`,
      });
    }
  });

  test("403 (an Origin header) is an ExecboxAuthError too", async () => {
    const err = await connectWebSocket(server.url, { token: TOKEN, headers: { Origin: "http://example.com" } }).catch((e) => e);
    expect(err).toBeInstanceOf(ExecboxAuthError);
    expect([err.status, err.message]).toEqual([403, `cannot connect to ${server.url}: the executor refused the upgrade (403 Forbidden)`]);
  });

  test("nothing listening: ExecboxConnectionError, not an auth error", async () => {
    const url = closedPortUrl();
    const err = await connectWebSocket(url).catch((e) => e);
    expect(err).toBeInstanceOf(ExecboxConnectionError);
    expect(err).not.toBeInstanceOf(ExecboxAuthError);
    expect(err.message).toStartWith(`cannot connect to ${url}`);
  });
});

describe("spawn failures", () => {
  const start = (argv: string[], tty: boolean, cwd = dir.uri) =>
    client.startProcess({ argv, cwd, env: { PATH: "/usr/bin:/bin" }, tty }).then(
      () => expect.unreachable("started"),
      (e) => e,
    );
  const spawnError = (message: string, kind: SpawnErrorKind, data: unknown) => ({ name: "ExecboxSpawnError", code: -32603, method: "process/start", message, kind, data });
  const seen = (e: ExecboxSpawnError) => ({ name: e.name, code: e.code, method: e.method, message: e.message, kind: e.kind, data: e.data });

  test("pipes: the executor's data.kind, on an ExecboxRpcError subclass", async () => {
    const missing = await start(["no-such-program-xyz"], false);
    expect(missing).toBeInstanceOf(ExecboxSpawnError);
    expect(missing).toBeInstanceOf(ExecboxRpcError);
    expect(seen(missing)).toEqual(spawnError("No such file or directory (os error 2)", "spawnNotFound", { kind: "spawnNotFound" }));
    expect(seen(await start([join(dir.path, "noexec")], false))).toEqual(
      spawnError("Permission denied (os error 13)", "spawnPermissionDenied", { kind: "spawnPermissionDenied" }),
    );
  });

  test("PTY: portable-pty's lookup texts (sent as spawnFailed) are classified as not found / permission denied", async () => {
    expect(seen(await start(["no-such-program-xyz"], true))).toEqual(
      spawnError('Unable to spawn no-such-program-xyz because:\nNo viable candidates found in PATH "/usr/bin:/bin"', "spawnNotFound", { kind: "spawnFailed" }),
    );
    expect(seen(await start(["./noexec"], true))).toEqual(
      spawnError(`Unable to spawn ${dir.path}/./noexec because it is not executable`, "spawnPermissionDenied", { kind: "spawnFailed" }),
    );
  });

  test("other start refusals stay plain ExecboxRpcErrors", async () => {
    const err = await client.startProcess({ argv: ["true"], cwd: "relative", env: {}, tty: false }).catch((e) => e);
    expect(err).toBeInstanceOf(ExecboxRpcError);
    expect(err).not.toBeInstanceOf(ExecboxSpawnError);
    expect(err.code).toBe(-32602);
  });
});

test("an executor without data.kind (0.169.0): the kind comes from the OS error text; other methods are not spawn errors", () => {
  const kind = (message: string) => (rpcError("process/start", { code: -32603, message }) as ExecboxSpawnError).kind;
  expect(kind("No such file or directory (os error 2)")).toBe("spawnNotFound");
  expect(kind("Permission denied (os error 13)")).toBe("spawnPermissionDenied");
  expect(kind("Not a directory (os error 20)")).toBe("spawnFailed");
  expect(kind("Unable to spawn sh because:\nUnable to resolve the PATH")).toBe("spawnNotFound");
  expect(kind("Unable to spawn x because:\n/b/x exists but is not executable.\nNo viable candidates found in PATH \"/b\"")).toBe("spawnPermissionDenied");
  expect(rpcError("fs/readFile", { code: -32603, message: "No such file or directory (os error 2)" })).not.toBeInstanceOf(ExecboxSpawnError);
});
