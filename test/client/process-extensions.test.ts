/** The client's list(), watch() and start timeouts (execbox's process extensions), against execbox and against the reference. */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { ExecboxUnsupportedError, connectWebSocket } from "../../src/client/index.ts";
import { referenceForTests } from "../helpers/reference-bin.ts";
import { startServer, tempDir } from "../helpers/server.ts";
import { waitUntil } from "../helpers/wait.ts";

setDefaultTimeout(30_000);

const ENV = { PATH: "/usr/bin:/bin" };
const dir = tempDir();
afterAll(() => dir[Symbol.dispose]());
const sh = (script: string, extra: object = {}) => ({ argv: ["sh", "-c", script], cwd: dir.uri, env: ENV, tty: false, ...extra });

describe("against execbox", () => {
  test("list() shows the session's processes; watch() resolves with the line, even when it matched before the answer", async () => {
    await using server = await startServer();
    const client = await connectWebSocket(server.url);
    const proc = await client.startProcess({ ...sh("printf 'boot\\nready on 8080\\n'; exec sleep 300"), processId: "srv" });
    // A watch set after the fact finds the line in retained output; the line is out first, so its match precedes the answer.
    const retained = async () => (await client.call("process/read", { processId: "srv", afterSeq: 0 })).chunks.map((c) => Buffer.from(c.chunk, "base64").toString()).join("");
    await waitUntil(async () => (await retained()).includes("ready on 8080\n"), 10_000, "the ready line");
    const ready = await client.watch("srv", "^ready on (\\d+)$", { afterSeq: 0, stream: "stdout" });
    expect(await ready.matched).toEqual({ seq: expect.any(Number), stream: "stdout", line: "ready on 8080" });
    expect(await ready.unwatch()).toBe(false);
    const never = await client.watch("srv", "^never$");
    expect(await never.unwatch()).toBe(true);

    expect((await client.list()).map((p) => [p.processId, p.state, p.argv[0]])).toEqual([["srv", "running", "sh"]]);
    await proc.terminate();
    expect(await proc.closed).toBe(137);
    await client.close();
  });

  test("startProcess with timeoutMs: the exited event and the process say which timeout fired", async () => {
    await using server = await startServer();
    const client = await connectWebSocket(server.url);
    const proc = await client.startProcess(sh("exec sleep 300", { idleTimeoutMs: 200 }));
    const events = [];
    for await (const e of proc) events.push(e);
    expect(events.find((e) => e.type === "exited")).toEqual({ type: "exited", seq: expect.any(Number), exitCode: 143, timedOut: "idle" });
    expect(proc.timedOut).toBe("idle");
    const quick = await client.startProcess(sh("exit 0", { timeoutMs: 10_000 }));
    expect(await quick.closed).toBe(0);
    expect(quick.timedOut).toBeNull();
    await client.close();
  });
});

const reference = referenceForTests();
describe.skipIf(!reference)("against the reference", () => {
  test("list(), watch() and a start with a timeout throw ExecboxUnsupportedError before sending anything", async () => {
    await using server = await startServer([], { command: [reference!, "exec-server"] });
    const client = await connectWebSocket(server.url);
    const unsupported = async (p: Promise<unknown>) => {
      const e = await p.catch((x) => x);
      expect(e).toBeInstanceOf(ExecboxUnsupportedError);
      return (e as ExecboxUnsupportedError).extension;
    };
    expect(await unsupported(client.list())).toBe("processList");
    expect(await unsupported(client.watch("p", "x"))).toBe("outputWatch");
    expect(await unsupported(client.startProcess(sh(`touch ${dir.path}/ran`, { timeoutMs: 1000 })))).toBe("timeouts");
    expect(await Bun.file(`${dir.path}/ran`).exists()).toBe(false);
    await client.close();
  });
});
