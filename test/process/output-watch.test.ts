/** process/watch and process/unwatch (extension `outputWatch`): lines matched on the executor, one notification per watch. */
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { RawClient } from "../helpers/rpc-client.ts";
import { clientWithExtension, sharedExecutor, tempDir } from "../helpers/server.ts";
import { waitUntil } from "../helpers/wait.ts";
import { MAX_WATCHES_PER_PROCESS, MAX_WATCHES_PER_SESSION, MAX_WATCH_LINE_BYTES } from "../../src/process/output-watch.ts";
import { MAX_WATCH_PATTERN_LENGTH } from "../../src/process/watch-pattern.ts";

setDefaultTimeout(60_000);

const ENV = { PATH: "/usr/bin:/bin" };
const dir = tempDir();
let n = 0;

const executor = sharedExecutor();
let c: RawClient;
beforeAll(async () => void (c = await clientWithExtension(executor, "outputWatch")));
afterAll(async () => {
  dir[Symbol.dispose]();
});

/** Starts `script`; with `gated`, it first waits for a line on stdin (see `go`), so watches can be set before any output. */
async function start(script: string, gated = false): Promise<string> {
  const processId = `p${++n}`;
  const argv = ["sh", "-c", gated ? `read go; ${script}` : script];
  await c.ok("process/start", { processId, argv, cwd: dir.uri, env: ENV, tty: false, pipeStdin: gated });
  return processId;
}
const go = (processId: string, text = "go\n") => c.ok("process/write", { processId, chunk: Buffer.from(text).toString("base64"), writeId: `${++n}` });
const matches = (processId: string, watchId?: string) =>
  c.frames.filter((f) => f.method === "process/watchMatched" && f.params.processId === processId && (!watchId || f.params.watchId === watchId));

/** The seq of the output chunk holding byte `offset` of a process's stdout. */
function seqAtOffset(processId: string, offset: number): number {
  let at = 0;
  for (const f of c.processEvents(processId)) {
    if (f.method !== "process/output") continue;
    at += Buffer.from(f.params.chunk, "base64").byteLength;
    if (at > offset) return f.params.seq;
  }
  throw new Error(`no chunk holds byte ${offset}`);
}

describe("matching", () => {
  test("a needle in the middle of a 50 MiB stream: exactly one notification, with its chunk's seq; another watch never matches", async () => {
    const line = `${"x".repeat(99)}\n`;
    const half = line.repeat(262_144); // 25 MiB
    const needle = "NEEDLE 4242\n";
    writeFileSync(`${dir.path}/big`, half + needle + half);
    const id = await start(`cat ${dir.path}/big`, true);
    const hit = (await c.ok("process/watch", { processId: id, pattern: "^NEEDLE \\d+$" })).watchId;
    const miss = (await c.ok("process/watch", { processId: id, pattern: "^NEVER", stream: "stdout" })).watchId;
    expect(hit).not.toBe(miss);
    await go(id);
    await c.processDone(id, 60_000);
    expect(c.output(id, "stdout").byteLength).toBe(2 * half.length + needle.length);
    const found = matches(id);
    expect(found.map((f) => f.params)).toEqual([
      { processId: id, watchId: hit, seq: seqAtOffset(id, half.length + needle.length - 1), stream: "stdout", line: "NEEDLE 4242" },
    ]);
    // Once the process has closed, no watch is left: the one that matched, nor the one that never did.
    expect(await c.ok("process/unwatch", { processId: id, watchId: miss })).toEqual({ removed: false });
    expect(await c.ok("process/unwatch", { processId: id, watchId: hit })).toEqual({ removed: false });
  });

  test("a line split across two chunks matches, with the seq of the chunk that ends it", async () => {
    const id = await start("printf 'NEE'; read more; printf 'DLE\\r\\nafter\\n'", true);
    const watchId = (await c.ok("process/watch", { processId: id, pattern: "^NEEDLE$" })).watchId;
    const onStderr = (await c.ok("process/watch", { processId: id, pattern: "NEEDLE", stream: "stderr" })).watchId;
    await go(id);
    await c.waitFor((f) => f.method === "process/output" && f.params.processId === id);
    await go(id, "more\n");
    await c.processDone(id);
    const chunks = c.processEvents(id).filter((f) => f.method === "process/output");
    expect(chunks.map((f) => Buffer.from(f.params.chunk, "base64").toString())).toEqual(["NEE", "DLE\r\nafter\n"]);
    expect(matches(id).map((f) => f.params)).toEqual([{ processId: id, watchId, seq: chunks[1]!.params.seq, stream: "stdout", line: "NEEDLE" }]);
    expect(await c.ok("process/unwatch", { processId: id, watchId: onStderr })).toEqual({ removed: false });
  });

  test("afterSeq scans retained output, including a closed process's unfinished last line", async () => {
    const id = await start("printf 'one\\nfound it\\nlast'");
    await c.processDone(id);
    const seq = c.processEvents(id).find((f) => f.method === "process/output")!.params.seq;
    const found = (await c.ok("process/watch", { processId: id, pattern: "found", afterSeq: 0 })).watchId;
    const last = (await c.ok("process/watch", { processId: id, pattern: "^last$", afterSeq: 0 })).watchId;
    const future = (await c.ok("process/watch", { processId: id, pattern: "found" })).watchId;
    await c.waitFor((f) => f.method === "process/watchMatched" && f.params.watchId === last && f.params.processId === id);
    expect(matches(id).map((f) => f.params)).toEqual([
      { processId: id, watchId: found, seq, stream: "stdout", line: "found it" },
      { processId: id, watchId: last, seq, stream: "stdout", line: "last" },
    ]);
    // Without afterSeq a watch sees only output from now on (none, on a closed process); after the last seq, nothing.
    const past = (await c.ok("process/watch", { processId: id, pattern: "one", afterSeq: seq })).watchId;
    expect(matches(id, future)).toEqual([]);
    expect(matches(id, past)).toEqual([]);
    expect(await c.ok("process/unwatch", { processId: id, watchId: past })).toEqual({ removed: false });
  });

  test("a program that exits while a descendant keeps its output open: its unfinished last line is matched at the exit, not only at close", async () => {
    // The background sleep holds stdout, so the process does not close while it runs; its pid is kept to end it.
    const pidFile = `${dir.path}/descendant-${++n}.pid`;
    const id = await start(`printf 'ready> '; sleep 60 & echo $! > ${pidFile}; exit 0`, true);
    const watchId = (await c.ok("process/watch", { processId: id, pattern: "^ready> $" })).watchId;
    await go(id);
    try {
      const matched = await c.waitFor((f) => f.method === "process/watchMatched" && f.params.processId === id, 10_000);
      expect(matched.params).toEqual({ processId: id, watchId, seq: c.processEvents(id).find((f) => f.method === "process/output")!.params.seq, stream: "stdout", line: "ready> " });
      expect(c.processEvents(id).some((f) => f.method === "process/closed")).toBe(false);
    } finally {
      await waitUntil(() => existsSync(pidFile) && readFileSync(pidFile, "utf8").endsWith("\n"), 10_000, "the descendant's pid");
      process.kill(Number(readFileSync(pidFile, "utf8")), "SIGKILL");
    }
    await c.processDone(id);
    // Matched once: the close's last look finds nothing more.
    expect(matches(id).length).toBe(1);
  });

  test("a line longer than the cap is matched on its first MAX_WATCH_LINE_BYTES bytes, at once", async () => {
    const id = await start(`head -c ${MAX_WATCH_LINE_BYTES + 10} /dev/zero | tr '\\0' y; read more; printf 'tail\\n'`, true);
    const capped = (await c.ok("process/watch", { processId: id, pattern: `^y{${MAX_WATCH_LINE_BYTES / 8}}` })).watchId;
    const beyond = (await c.ok("process/watch", { processId: id, pattern: "yyyytail" })).watchId;
    await go(id);
    await c.waitFor((f) => f.method === "process/watchMatched" && f.params.watchId === capped && f.params.processId === id);
    await go(id, "more\n");
    await c.processDone(id);
    expect(matches(id, capped)[0]!.params.line).toBe("y".repeat(MAX_WATCH_LINE_BYTES));
    expect(matches(id, beyond)).toEqual([]);
  });

  test("a pattern that backtracks catastrophically in JS RegExp costs linear time (measured there: 45 s for 1000 bytes, hours for these 4000)", async () => {
    const id = await start(`head -c 4000 /dev/zero | tr '\\0' a; printf '!\\nok\\n'`, true);
    const hostile = (await c.ok("process/watch", { processId: id, pattern: ".*a.*a.*b" })).watchId;
    const ok = (await c.ok("process/watch", { processId: id, pattern: "^ok$" })).watchId;
    await go(id);
    await c.processDone(id);
    expect(matches(id).map((f) => f.params.watchId)).toEqual([ok]);
    expect(matches(id, hostile)).toEqual([]);
  });
});

/**
 * 128 lines of 4,000 `a`/`b` (a fixed pseudo-random sequence) that
 * `a[ab]{100}$` never matches, then `DONE`. The pattern keeps RE2's DFA out
 * of states on these lines: ~5 µs a byte in re2js, ~2.5 s for the file.
 */
function hostileLines(): string {
  let x = 12345;
  const lines: string[] = [];
  for (let i = 0; i < 128; i++) {
    let line = "";
    for (let j = 0; j < 4000; j++) {
      x = (x * 1103515245 + 12345) & 0x7fffffff;
      line += j === 4000 - 101 ? "b" : x & 0x10000 ? "a" : "b";
    }
    lines.push(line);
  }
  return `${lines.join("\n")}\nDONE\n`;
}

describe("isolation", () => {
  test("a slow watch does not hold other sessions: their calls and watches are answered while it scans", async () => {
    writeFileSync(`${dir.path}/hostile`, hostileLines());
    const slowProc = await start(`cat ${dir.path}/hostile`);
    await c.processDone(slowProc);
    const other = await RawClient.websocket(executor.server.url);
    try {
      await other.initialize();
      const order: string[] = [];
      const slow = c.call("process/watch", { processId: slowProc, pattern: "a[ab]{100}$|^DONE$", afterSeq: 0 });
      const slowMatch = c
        .waitFor((f) => f.method === "process/watchMatched" && f.params.processId === slowProc, 60_000)
        .then((f) => (order.push("slow watch matched"), f.params.line));
      // Another session: calls that need the event loop, and a watch of its own.
      for (let i = 0; i < 3; i++) await other.ok("process/list");
      order.push("other session's calls answered");
      await other.ok("process/start", { processId: "quick", argv: ["sh", "-c", "read go; echo hi"], cwd: dir.uri, env: ENV, tty: false, pipeStdin: true });
      await other.ok("process/watch", { processId: "quick", pattern: "^hi$" });
      await other.ok("process/write", { processId: "quick", chunk: Buffer.from("go\n").toString("base64"), writeId: "1" });
      await other.waitFor((f) => f.method === "process/watchMatched" && f.params.processId === "quick");
      await other.processDone("quick");
      order.push("other session's watch matched");
      expect((await slow).error).toBeUndefined();
      expect(await slowMatch).toBe("DONE");
      expect(order).toEqual(["other session's calls answered", "other session's watch matched", "slow watch matched"]);
    } finally {
      other.close();
    }
  });

  test("live output a slow watch cannot keep up with is held, not dropped: every byte arrives, and the match before closed", async () => {
    const text = hostileLines();
    writeFileSync(`${dir.path}/hostile-live`, text);
    const id = await start(`cat ${dir.path}/hostile-live`, true);
    const watchId = (await c.ok("process/watch", { processId: id, pattern: "a[ab]{100}$|^DONE$" })).watchId;
    await go(id);
    await c.processDone(id, 60_000);
    expect(c.output(id, "stdout").toString()).toBe(text);
    expect(matches(id).map((f) => f.params)).toEqual([{ processId: id, watchId, seq: c.processEvents(id).findLast((f) => f.method === "process/output")!.params.seq, stream: "stdout", line: "DONE" }]);
  });
});

describe("refusals and caps", () => {
  test("patterns RE2 cannot run in linear time, or too large, are -32602", async () => {
    const id = await start("exit 0");
    const refused: [string, string][] = [
      ["(a)\\1", "watch pattern is not an RE2 regular expression (no backreferences or lookaround): error parsing regexp: invalid escape sequence: `\\1`"],
      ["a(?=b)", "watch pattern is not an RE2 regular expression (no backreferences or lookaround): error parsing regexp: invalid or unsupported Perl syntax: `(?=`"],
      ["[", "watch pattern is not an RE2 regular expression (no backreferences or lookaround): error parsing regexp: missing closing ]: `[`"],
      ["x".repeat(MAX_WATCH_PATTERN_LENGTH + 1), `watch pattern is ${MAX_WATCH_PATTERN_LENGTH + 1} characters long, more than ${MAX_WATCH_PATTERN_LENGTH}`],
      ["x{0,900}y{0,900}", "watch pattern compiles to 3602 instructions, more than 2000"],
    ];
    for (const [pattern, message] of refused) {
      expect((await c.call("process/watch", { processId: id, pattern })).error).toEqual({ code: -32602, message });
    }
    expect((await c.call("process/watch", { processId: id, pattern: "x", stream: "stdin" })).error).toEqual({
      code: -32602,
      message: "unknown variant `stdin`, expected one of `stdout`, `stderr`, `pty`",
    });
    expect((await c.call("process/watch", { processId: "nope", pattern: "x" })).error).toEqual({ code: -32600, message: "unknown process id nope" });
    expect((await c.call("process/unwatch", { processId: "nope", watchId: "w1" })).error).toEqual({ code: -32600, message: "unknown process id nope" });
    expect(await c.ok("process/unwatch", { processId: id, watchId: "w999" })).toEqual({ removed: false });
  });

  test(`${MAX_WATCHES_PER_PROCESS} watches per process and ${MAX_WATCHES_PER_SESSION} per session, then -32600; unwatch frees a slot`, async () => {
    const ids: string[] = [];
    for (let i = 0; i < MAX_WATCHES_PER_SESSION / MAX_WATCHES_PER_PROCESS + 1; i++) ids.push(await start("exec sleep 300"));
    const watch = (processId: string) => c.call("process/watch", { processId, pattern: "never" });
    const first: string[] = [];
    for (let i = 0; i < MAX_WATCHES_PER_PROCESS; i++) first.push((await watch(ids[0]!)).result.watchId);
    expect((await watch(ids[0]!)).error).toEqual({
      code: -32600,
      message: `process/watch refused: this process already has ${MAX_WATCHES_PER_PROCESS} watches, the most it may have at once`,
    });
    for (const id of ids.slice(1, -1)) for (let i = 0; i < MAX_WATCHES_PER_PROCESS; i++) expect((await watch(id)).error).toBeUndefined();
    expect((await watch(ids.at(-1)!)).error).toEqual({
      code: -32600,
      message: `process/watch refused: this session already has ${MAX_WATCHES_PER_SESSION} watches, the most it may have at once`,
    });
    await c.ok("process/unwatch", { processId: ids[0], watchId: first[0] });
    expect((await watch(ids.at(-1)!)).error).toBeUndefined();
    for (const id of ids) await c.ok("process/terminate", { processId: id });
  });
});
