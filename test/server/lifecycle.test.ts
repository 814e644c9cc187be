/** initialize → initialized, the family-specific refusals, and what drops a connection. */
import { afterEach, describe, expect, test, setDefaultTimeout } from "bun:test";
import { RawClient } from "../helpers/rpc-client.ts";
import { waitUntil } from "../helpers/wait.ts";
import { type RunningServer, startServer, tempDir } from "../helpers/server.ts";
import { PROTOCOL_VERSION } from "../../src/version.ts";
import { EXTENSIONS } from "../../src/protocol/extensions.ts";

// Integration tests start real servers and processes; each wait inside has its own deadline.
setDefaultTimeout(30_000);

let server: RunningServer | undefined;
afterEach(async () => {
  await server?.stop("SIGKILL");
  server = undefined;
});

async function connect(): Promise<RawClient> {
  server ??= await startServer();
  return RawClient.websocket(server.url);
}

describe("lifecycle", () => {
  test("refusals before initialize and before initialized name the method family", async () => {
    const c = await connect();
    const families: [string, unknown, string][] = [
      ["process/read", { processId: "p" }, "exec"],
      ["environment/info", undefined, "environment info"],
      ["environment/status", null, "environment status"],
      ["capabilities/discoverV2", { cwd: "file:///" }, "capability discovery"],
      ["capabilityRoots/discoverV1", { roots: [] }, "capability discovery"],
      ["environmentConfig/read", { cwd: "file:///", configPaths: [], requirementsPaths: [] }, "environment config"],
    ];
    for (const [method, params, family] of families) {
      const r = await c.call(method, params);
      expect(r.error).toEqual({ code: -32600, message: `client must call initialize before using ${family} methods` });
    }
    const init = await c.call("initialize", { clientName: "t" });
    expect(Object.keys(init.result)).toEqual(["sessionId", "environmentInfo"]);
    expect(init.result.sessionId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    for (const [method, params, family] of families) {
      const r = await c.call(method, params);
      expect(r.error).toEqual({ code: -32600, message: `client must send initialized before using ${family} methods` });
    }
    c.notify("initialized");
    expect(await c.ok("environment/status")).toEqual({ status: "ready" });
    const again = await c.call("initialize", { clientName: "t" });
    expect(again.error).toEqual({ code: -32600, message: "initialize may only be sent once per connection" });
    c.notify("initialized", {});
    expect(await c.ok("environment/status", {})).toEqual({ status: "ready" });
    c.close();
  });

  test("params are decoded before the lifecycle gate", async () => {
    const c = await connect();
    const r = await c.call("process/start", {});
    expect(r.error).toEqual({ code: -32602, message: "missing field `processId`" });
    const r2 = await c.call("initialize", {});
    expect(r2.error).toEqual({ code: -32602, message: "missing field `clientName`" });
  });

  test("environment/info matches initialize's environmentInfo and says what execbox implements", async () => {
    const c = await connect();
    const init = await c.initialize();
    const info = await c.ok("environment/info");
    expect(info).toEqual(init.environmentInfo);
    expect(Object.keys(info)).toEqual([
      "shell", "executorVersion", "providerId", "cwd", "userHomeDir", "platformOs",
      "prependPathDirs", "temporaryDirectories", "tempDir", "capabilities", "extensions",
    ]);
    // What this build implements, by the one table clients read (src/protocol/extensions.ts).
    expect(info.extensions).toEqual(EXTENSIONS);
    expect(info.executorVersion).toBe(PROTOCOL_VERSION);
    expect(info.platformOs).toBe("linux");
    expect(info.capabilities.fsWatchMissing).toBe(true);
    expect(info.capabilities.httpHeaderEnvVars).toBe(true);
    expect(info.capabilities.networkProxyLaunch).toBe(true);
    expect(info.capabilities.environmentConfigRead).toBe(true);
    // 0.171.0's 16 keys, in its order: networkProxyTransparentTcp follows networkProxyReviewDomains.
    expect(Object.keys(info.capabilities).slice(0, 3)).toEqual(["networkProxyLaunch", "networkProxyReviewDomains", "networkProxyTransparentTcp"]);
    expect(Object.keys(info.capabilities).length).toBe(16);
    expect(info.capabilities.networkProxyTransparentTcp).toBe(false);
    expect(info.capabilities.networkProxyReviewDomains).toBe(true);
    expect([info.capabilities.credentialMasking, info.capabilities.credentialMaskingCustomProviders]).toEqual([true, true]);
    for (const bad of [{ a: 1 }, [1]]) {
      const r = await c.call("environment/info", bad);
      expect(r.error).toEqual({ code: -32602, message: `invalid type: ${Array.isArray(bad) ? "sequence" : "map"}, expected unit` });
    }
  });

  for (const [name, frame] of [
    ["an unknown notification", { method: "some/otherNotification", params: {} }],
    ["a response object", { id: 1, result: {} }],
    ["an error object", { id: 1, error: { code: 1, message: "x" } }],
  ] as const) {
    test(`${name} drops the connection without a reply; the server keeps serving`, async () => {
      const c = await connect();
      await c.initialize();
      const before = c.frames.length;
      c.send(frame);
      await c.waitClosed();
      expect(c.frames.length).toBe(before);
      const other = await connect();
      await other.initialize();
      expect(await other.ok("environment/status")).toEqual({ status: "ready" });
    });
  }

  test("initialized before initialize drops the connection", async () => {
    const c = await connect();
    c.notify("initialized");
    await c.waitClosed();
    expect(c.frames).toEqual([]);
  });

  test("initialized sent as a request is an unknown method", async () => {
    const c = await connect();
    const r = await c.call("initialized", {});
    expect(r.error).toEqual({ code: -32601, message: "exec-server stub does not implement `initialized` yet" });
  });
});

describe("sessions", () => {
  test("a dropped connection detaches; resume gets the same session and its processes", async () => {
    using dir = tempDir();
    const a = await connect();
    const { sessionId } = await a.initialize();
    await a.ok("process/start", { processId: "keep", argv: ["sh", "-c", "echo before; read x; echo after-$x"], cwd: dir.uri, env: { PATH: "/usr/bin:/bin" }, tty: false, pipeStdin: true });
    await a.waitFor((f) => f.method === "process/output");
    a.close();
    await a.waitClosed();

    const b = await connect();
    const other = await b.call("initialize", { clientName: "t", resumeSessionId: "00000000-0000-0000-0000-000000000000" });
    expect(other.error).toEqual({ code: -32600, message: "unknown session id 00000000-0000-0000-0000-000000000000" });
    const resumed = await b.initialize("t", sessionId);
    expect(resumed.sessionId).toBe(sessionId);
    const third = await connect();
    const busy = await third.call("initialize", { clientName: "t", resumeSessionId: sessionId });
    expect(busy.error).toEqual({ code: -32010, message: `session ${sessionId} is already attached to another connection` });

    await b.ok("process/write", { processId: "keep", chunk: Buffer.from("x\n").toString("base64"), writeId: "1" });
    await b.processDone("keep");
    const read = await b.ok("process/read", { processId: "keep" });
    expect(read.chunks.map((ch: any) => Buffer.from(ch.chunk, "base64").toString()).join("")).toBe("before\nafter-x\n");
  });

  test("a detached session expires after the detach window and its processes are killed", async () => {
    server = await startServer(["--detached-session-ttl-ms", "200"]);
    using dir = tempDir();
    const a = await connect();
    const { sessionId } = await a.initialize();
    const pidFile = `${dir.path}/pid`;
    await a.ok("process/start", { processId: "p", argv: ["sh", "-c", `echo $$ > ${pidFile}; exec sleep 300`], cwd: dir.uri, env: { PATH: "/usr/bin:/bin" }, tty: false });
    await waitUntil(() => Bun.file(pidFile).size > 0, 10_000, "pid file");
    const pid = Number((await Bun.file(pidFile).text()).trim());
    a.close();
    await a.waitClosed();
    // The window (200 ms) passes with nobody attached: the process must die, then resume must fail.
    await waitUntil(async () => !(await Bun.file(`/proc/${pid}/stat`).exists()), 10_000, "detached process to be killed");
    const b = await connect();
    const resumed = await b.call("initialize", { clientName: "t", resumeSessionId: sessionId });
    expect(resumed.error).toEqual({ code: -32600, message: `unknown session id ${sessionId}` });
  });
});
