/** process/* against a real executor, over every transport. */
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { RawClient } from "../helpers/rpc-client.ts";
import { waitUntil } from "../helpers/wait.ts";
import { tempDir } from "../helpers/server.ts";
import { type Connected, TRANSPORTS, readyClient } from "../helpers/transports.ts";

// Integration tests start real servers and processes; each wait inside has its own deadline.
setDefaultTimeout(30_000);

const ENV = { PATH: "/usr/bin:/bin" };

/** Alive and not a zombie (an orphan may wait for init to reap it). */
function isAlive(pid: number): boolean {
  try {
    const stat = require("node:fs").readFileSync(`/proc/${pid}/stat`, "utf8") as string;
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

for (const transport of TRANSPORTS) {
  describe(`process API over ${transport}`, () => {
    let conn: Connected;
    let c: RawClient;
    const dir = tempDir();
    let n = 0;
    const start = (argv: string[], extra: Record<string, unknown> = {}) => {
      const processId = `p${++n}`;
      return c.call("process/start", { processId, argv, cwd: dir.uri, env: ENV, tty: false, ...extra }).then((r) => ({ r, processId }));
    };

    beforeAll(async () => {
      conn = await readyClient(transport);
      c = conn.client;
    });
    afterAll(async () => {
      await conn.dispose();
      dir[Symbol.dispose]();
    });

    test("stdout, stderr, exit code, then closed with the highest seq", async () => {
      const { r, processId } = await start(["sh", "-c", "printf out; printf err >&2; exit 3"]);
      expect(r.result).toEqual({ processId, sandboxType: "none" });
      const events = await c.processDone(processId);
      expect(events.map((e) => e.params.seq)).toEqual(events.map((_, i) => i + 1));
      expect(events.at(-1)!.method).toBe("process/closed");
      const exited = events.find((e) => e.method === "process/exited")!;
      expect(exited.params).toEqual({ processId, seq: exited.params.seq, exitCode: 3, sandboxDenied: false });
      expect(c.output(processId, "stdout").toString()).toBe("out");
      expect(c.output(processId, "stderr").toString()).toBe("err");
      const read = await c.ok("process/read", { processId });
      expect(read.exited).toBe(true);
      expect(read.closed).toBe(true);
      expect(read.exitCode).toBe(3);
      expect(read.failure).toBeNull();
      expect(read.nextSeq).toBe(events.length + 1);
    });

    test("5 MiB of output arrives byte-exact with contiguous seq numbers", async () => {
      const size = 5 * 1024 * 1024;
      const { processId } = await start(["sh", "-c", `head -c ${size} /dev/urandom | tee ${dir.path}/big.bin`]);
      const events = await c.processDone(processId, 30_000);
      expect(events.map((e) => e.params.seq)).toEqual(events.map((_, i) => i + 1));
      const out = c.output(processId, "stdout");
      expect(out.length).toBe(size);
      expect(out.equals(await Bun.file(join(dir.path, "big.bin")).bytes().then(Buffer.from))).toBe(true);
    });

    test("non-UTF-8 bytes pass through unchanged", async () => {
      const { processId } = await start(["printf", "\\377\\376\\000\\200ok"]);
      await c.processDone(processId);
      expect([...c.output(processId)]).toEqual([0xff, 0xfe, 0x00, 0x80, 0x6f, 0x6b]);
    });

    test("late output from a grandchild holding the pipe arrives before closed", async () => {
      const { processId } = await start(["sh", "-c", "(sleep 0.3; echo late) & echo early"]);
      const events = await c.processDone(processId);
      const exited = events.find((e) => e.method === "process/exited")!;
      const late = events.find((e) => e.method === "process/output" && Buffer.from(e.params.chunk, "base64").toString() === "late\n")!;
      expect(exited.params.exitCode).toBe(0);
      expect(late.params.seq).toBeGreaterThan(exited.params.seq);
      expect(events.at(-1)!.method).toBe("process/closed");
      expect(c.output(processId).toString()).toBe("early\nlate\n");
    });

    test("read: afterSeq, maxBytes budget and nextSeq rules", async () => {
      const { processId } = await start(["sh", "-c", "printf a; sleep 0.05; printf bb; sleep 0.05; printf ccc"]);
      const events = await c.processDone(processId);
      const chunks = events.filter((e) => e.method === "process/output");
      const all = await c.ok("process/read", { processId });
      expect(all.chunks.map((x: any) => x.seq)).toEqual(chunks.map((x) => x.params.seq));
      expect(all.nextSeq).toBe(events.at(-1)!.params.seq + 1);
      const first = await c.ok("process/read", { processId, maxBytes: 0 });
      expect(first.chunks.length).toBe(1);
      expect(first.nextSeq).toBe(first.chunks[0].seq + 1);
      const after = await c.ok("process/read", { processId, afterSeq: chunks[0]!.params.seq, maxBytes: 65536 });
      expect(after.chunks[0].seq).toBe(chunks[1]!.params.seq);
      expect(after.nextSeq).toBe(after.chunks.at(-1).seq + 1);
    });

    test("long-poll returns as soon as output arrives", async () => {
      const { processId } = await start(["sh", "-c", "sleep 0.3; echo late"]);
      const res = await c.ok("process/read", { processId, afterSeq: 0, waitMs: 10_000 });
      expect(res.chunks.length).toBe(1);
      expect(Buffer.from(res.chunks[0].chunk, "base64").toString()).toBe("late\n");
      await c.processDone(processId);
    });

    test("with one request at a time, a long-poll holds back later requests on the connection", async () => {
      const { processId } = await start(["sh", "-c", "read x; echo got-$x"], { pipeStdin: true });
      const readId = c.request("process/read", { processId, afterSeq: 0, waitMs: 300 });
      const writeId = c.request("process/write", { processId, chunk: Buffer.from("go\n").toString("base64"), writeId: "w1" });
      const write = await c.waitFor((f) => f.id === writeId);
      const read = c.frames.find((f) => f.id === readId)!;
      expect(c.frames.indexOf(read)).toBeLessThan(c.frames.indexOf(write));
      expect(read.result.chunks).toEqual([]);
      await c.processDone(processId);
      expect(c.output(processId).toString()).toBe("got-go\n");
    });

    test("long-poll times out empty at its deadline", async () => {
      const { processId } = await start(["sleep", "5"]);
      const res = await c.ok("process/read", { processId, waitMs: 100 });
      expect(res).toEqual({ chunks: [], nextSeq: 1, exited: false, exitCode: null, closed: false, failure: null, sandboxDenied: false });
      expect(await c.ok("process/terminate", { processId })).toEqual({ running: true });
      const events = await c.processDone(processId);
      expect(events.map((e) => [e.method, e.params.exitCode])).toEqual([["process/exited", 137], ["process/closed", undefined]]);
    });

    test("pipeStdin: writeId dedupe, empty chunk, stdinClosed, unknownProcess", async () => {
      const { processId } = await start(["sh", "-c", "while read l; do echo line:$l; done"], { pipeStdin: true });
      const b64 = (s: string) => Buffer.from(s).toString("base64");
      expect(await c.ok("process/write", { processId, chunk: b64("a\n"), writeId: "w-1" })).toEqual({ status: "accepted" });
      expect(await c.ok("process/write", { processId, chunk: b64("a\n"), writeId: "w-1" })).toEqual({ status: "accepted" });
      expect(await c.ok("process/write", { processId, chunk: "", writeId: "w-empty" })).toEqual({ status: "accepted" });
      expect(await c.ok("process/write", { processId, chunk: b64("b\n"), writeId: "w-2" })).toEqual({ status: "accepted" });
      await c.waitFor(() => c.output(processId).toString() === "line:a\nline:b\n");
      expect(await c.ok("process/terminate", { processId })).toEqual({ running: true });
      await c.processDone(processId);
      expect(await c.ok("process/terminate", { processId })).toEqual({ running: false });
      const late = await c.call("process/write", { processId, chunk: b64("c\n"), writeId: "w-3" });
      expect(late.error).toEqual({ code: -32603, message: "failed to write to process stdin" });
      expect(await c.ok("process/write", { processId, chunk: b64("a\n"), writeId: "w-1" })).toEqual({ status: "accepted" });

      const closed = await start(["sleep", "5"]);
      expect(await c.ok("process/write", { processId: closed.processId, chunk: b64("x"), writeId: "w" })).toEqual({ status: "stdinClosed" });
      await c.ok("process/terminate", { processId: closed.processId });
      expect(await c.ok("process/write", { processId: "nope", chunk: b64("x"), writeId: "w" })).toEqual({ status: "unknownProcess" });
    });

    test("without pipeStdin a child's stdin is at EOF", async () => {
      const { processId } = await start(["sh", "-c", "cat; echo rc=$?"]);
      await c.processDone(processId);
      expect(c.output(processId).toString()).toBe("rc=0\n");
    });

    test("tty: one pty stream, CRLF, echo, 24x80, interactive input", async () => {
      const { processId } = await start(["sh", "-c", "stty size; read x; echo got:$x"], { tty: true });
      await c.waitFor(() => c.output(processId).toString().includes("24 80\r\n"));
      await c.ok("process/write", { processId, chunk: Buffer.from("hi\n").toString("base64"), writeId: "t1" });
      const events = await c.processDone(processId);
      expect(new Set(events.filter((e) => e.method === "process/output").map((e) => e.params.stream))).toEqual(new Set(["pty"]));
      expect(c.output(processId).toString()).toBe("24 80\r\nhi\r\ngot:hi\r\n");
      expect(events.find((e) => e.method === "process/exited")!.params.exitCode).toBe(0);
    });

    test("interrupt: a trap runs; an untrapped child exits 130", async () => {
      const trap = await start(["bash", "-c", "trap 'echo caught; exit 42' INT; echo ready; while true; do sleep 0.05; done"]);
      await c.waitFor(() => c.output(trap.processId).toString() === "ready\n");
      expect(await c.ok("process/signal", { processId: trap.processId, signal: "interrupt" })).toEqual({});
      const events = await c.processDone(trap.processId);
      expect(c.output(trap.processId).toString()).toBe("ready\ncaught\n");
      expect(events.find((e) => e.method === "process/exited")!.params.exitCode).toBe(42);

      const plain = await start(["sleep", "10"]);
      await c.ok("process/signal", { processId: plain.processId, signal: "interrupt" });
      const ev2 = await c.processDone(plain.processId);
      expect(ev2.find((e) => e.method === "process/exited")!.params.exitCode).toBe(130);
      expect(await c.ok("process/signal", { processId: "unknown", signal: "interrupt" })).toEqual({});
    });

    test("terminate kills the whole process group", async () => {
      const pidFile = join(dir.path, `bg-${transport}.pid`);
      const { processId } = await start(["sh", "-c", `sleep 300 & echo $! > ${pidFile}; wait`]);
      await waitUntil(() => Bun.file(pidFile).size > 0, 10_000, "pid file");
      const bg = Number((await Bun.file(pidFile).text()).trim());
      await c.ok("process/terminate", { processId });
      await c.processDone(processId);
      // Its pipes close while it is still exiting (files are released before it turns zombie): wait for that.
      await waitUntil(() => !isAlive(bg), 5_000, "the background sleep to die");
    });

    test("duplicate processId is refused, also while retained after exit", async () => {
      const { processId } = await start(["true"]);
      await c.processDone(processId);
      const dup = await c.call("process/start", { processId, argv: ["true"], cwd: dir.uri, env: ENV, tty: false });
      expect(dup.error).toEqual({ code: -32600, message: `process ${processId} already exists` });
    });

    test("unknown process id on read", async () => {
      const r = await c.call("process/read", { processId: "never-started" });
      expect(r.error).toEqual({ code: -32600, message: "unknown process id never-started" });
    });

    test("env is the complete environment; envPolicy resolves against the executor's own, then env overlays", async () => {
      const bare = await start(["/usr/bin/env"], { env: { ONLY: "1" } });
      await c.processDone(bare.processId);
      expect(c.output(bare.processId).toString()).toBe("ONLY=1\n");
      const policy = { inherit: "none", ignoreDefaultExcludes: false, exclude: ["DROP*"], set: { A: "set", DROP_ME: "x", MY_TOKEN: "t" }, includeOnly: [] };
      const p = await start(["/usr/bin/env"], { env: { B: "overlay", A: "overlay-wins" }, envPolicy: policy });
      await c.processDone(p.processId);
      // exclude and the default KEY/SECRET/TOKEN filter apply to inherited variables, not to `set`.
      expect(c.output(p.processId).toString().split("\n").sort().join(",")).toBe(",A=overlay-wins,B=overlay,DROP_ME=x,MY_TOKEN=t");
      const only = await start(["/usr/bin/env"], { env: {}, envPolicy: { ...policy, inherit: "all", set: {}, includeOnly: ["hom?"] } });
      await c.processDone(only.processId);
      expect(c.output(only.processId).toString()).toBe(`HOME=${process.env.HOME}\n`);
    });

    test("arg0 overrides what the child sees as $0", async () => {
      const { processId } = await start(["sh", "-c", "echo $0"], { arg0: "custom-name" });
      await c.processDone(processId);
      expect(c.output(processId).toString()).toBe("custom-name\n");
    });

    test("spawn errors are -32603 and do not reserve the id", async () => {
      const missing = await c.call("process/start", { processId: "bad", argv: ["/no/such/program"], cwd: dir.uri, env: ENV, tty: false });
      expect(missing.error).toEqual({ code: -32603, message: "No such file or directory (os error 2)", data: { kind: "spawnNotFound" } });
      const noCwd = await c.call("process/start", { processId: "bad", argv: ["true"], cwd: `${dir.uri}/missing`, env: ENV, tty: false });
      expect(noCwd.error).toEqual({ code: -32603, message: "No such file or directory (os error 2)", data: { kind: "spawnNotFound" } });
      writeFileSync(join(dir.path, "file"), "");
      const notDir = await c.call("process/start", { processId: "bad", argv: ["true"], cwd: `${dir.uri}/file`, env: ENV, tty: false });
      expect(notDir.error).toEqual({ code: -32603, message: "Not a directory (os error 20)", data: { kind: "spawnFailed" } });
      const ttyNoPath = await c.call("process/start", { processId: "bad", argv: ["sh"], cwd: dir.uri, env: {}, tty: true });
      expect(ttyNoPath.error).toEqual({ code: -32603, message: "Unable to spawn sh because:\nUnable to resolve the PATH", data: { kind: "spawnFailed" } });
      const ok = await c.call("process/start", { processId: "bad", argv: ["true"], cwd: dir.uri, env: {}, tty: false });
      expect(ok.result).toEqual({ processId: "bad", sandboxType: "none" });
    });
  });
}
