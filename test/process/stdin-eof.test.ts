/** Extension `closeStdin`: `process/write` with `closeStdin: true` ends the child's input (src/process/stdin-writes.ts). */
import { beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { processSuite } from "../helpers/process-suite.ts";

setDefaultTimeout(30_000);

const b64 = (s: string) => Buffer.from(s).toString("base64");

describe("process/write closeStdin", () => {
  const suite = processSuite("eof", { tty: false, pipeStdin: true });
  const start = async (argv: string[], extra: Record<string, unknown> = {}) => (await suite.start(argv, extra)).processId;
  let c: typeof suite.c;
  beforeAll(() => {
    c = suite.c;
  });

  test("is advertised", async () => {
    const info = await c.ok("environment/info", {});
    expect(info.extensions.closeStdin).toBe(1);
  });

  test("a pipe child reads the chunk, then EOF: wc -l finishes; later writes answer stdinClosed", async () => {
    const processId = await start(["wc", "-l"]);
    expect(await c.ok("process/write", { processId, chunk: b64("a\n"), writeId: "w1" })).toEqual({ status: "accepted" });
    expect(await c.ok("process/write", { processId, chunk: b64("b\n"), writeId: "w2", closeStdin: true })).toEqual({ status: "accepted" });
    // A retry of the closing write is deduplicated, not refused.
    expect(await c.ok("process/write", { processId, chunk: b64("b\n"), writeId: "w2", closeStdin: true })).toEqual({ status: "accepted" });
    expect(await c.ok("process/write", { processId, chunk: b64("c\n"), writeId: "w3" })).toEqual({ status: "stdinClosed" });
    expect(await c.ok("process/write", { processId, writeId: "w4", closeStdin: true })).toEqual({ status: "stdinClosed" });
    const events = await c.processDone(processId);
    expect(events.find((e) => e.method === "process/exited")!.params.exitCode).toBe(0);
    expect(c.output(processId, "stdout").toString()).toBe("2\n");
  });

  test("chunk may be left out with closeStdin; without it chunk is required as on the reference", async () => {
    const processId = await start(["sh", "-c", "cat; echo rc=$?"]);
    const missing = await c.call("process/write", { processId, writeId: "m" });
    expect(missing.error).toEqual({ code: -32602, message: "missing field `chunk`" });
    const notTrue = await c.call("process/write", { processId, writeId: "m", closeStdin: false });
    expect(notTrue.error).toEqual({ code: -32602, message: "missing field `chunk`" });
    // `null` is "not used", as for every other optional field: the reference (which ignores the field) accepts it.
    expect(await c.ok("process/write", { processId, writeId: "n", chunk: "", closeStdin: null })).toEqual({ status: "accepted" });
    expect((await c.call("process/write", { processId, writeId: "m", closeStdin: null })).error).toEqual({ code: -32602, message: "missing field `chunk`" });
    const badType = await c.call("process/write", { processId, writeId: "m", chunk: "", closeStdin: "yes" });
    expect(badType.error).toEqual({ code: -32602, message: 'invalid type: string "yes", expected a boolean' });
    expect(await c.ok("process/write", { processId, writeId: "close", closeStdin: true })).toEqual({ status: "accepted" });
    await c.processDone(processId);
    expect(c.output(processId, "stdout").toString()).toBe("rc=0\n");
  });

  test("the array form stays the reference's: a fourth element is too many", async () => {
    const processId = await start(["cat"]);
    const long = await c.call("process/write", [processId, b64("x"), "w", true]);
    expect(long.error).toEqual({ code: -32602, message: "invalid length 4, expected fewer elements in array" });
    await c.ok("process/write", { processId, chunk: "", writeId: "close", closeStdin: true });
    await c.processDone(processId);
  });

  test("a grandchild holding stdin sees EOF too", async () => {
    // `<&0`: a non-interactive shell gives a background job /dev/null as stdin unless it is redirected explicitly.
    const processId = await start(["sh", "-c", "(cat > /dev/null; echo child-eof) <&0 & wait"]);
    await c.ok("process/write", { processId, chunk: b64("data"), writeId: "w", closeStdin: true });
    await c.processDone(processId);
    expect(c.output(processId, "stdout").toString()).toBe("child-eof\n");
  });

  test("a PTY gets VEOF (^D): cat at the start of a line reads EOF and exits 0", async () => {
    const processId = await start(["sh", "-c", "stty -echo; echo ready; cat; echo rc=$?"], { tty: true, pipeStdin: false });
    await c.waitFor(() => c.output(processId).toString().includes("ready\r\n"));
    expect(await c.ok("process/write", { processId, chunk: b64("one\n"), writeId: "t1", closeStdin: true })).toEqual({ status: "accepted" });
    expect(await c.ok("process/write", { processId, chunk: b64("two\n"), writeId: "t2" })).toEqual({ status: "stdinClosed" });
    const events = await c.processDone(processId);
    expect(events.find((e) => e.method === "process/exited")!.params.exitCode).toBe(0);
    expect(c.output(processId).toString()).toBe("ready\r\none\r\nrc=0\r\n");
  });
});
