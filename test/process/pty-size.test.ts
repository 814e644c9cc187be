/** Extension `ptySize`: `size` on `process/start` and `process/resizePty`, seen by a real PTY child (src/process/pty-size.ts). */
import { beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { MAX_PTY_COLS, MAX_PTY_ROWS } from "../../src/process/pty-size.ts";
import { processSuite } from "../helpers/process-suite.ts";

setDefaultTimeout(30_000);

/** Prints its size, then again on each SIGWINCH (traps run between commands, so it loops on short sleeps). */
/**
 * Prints the size at start and on each SIGWINCH, each report ending in "."
 * once the trap is done: bash loses a SIGWINCH that arrives while its trap
 * still runs, so a test resizes again only after the ".".
 */
const SIZE_REPORTER = "trap 'echo winch; stty size; echo .' WINCH; stty -echo; stty size; echo .; while :; do sleep 0.02; done";

describe("PTY size", () => {
  const suite = processSuite("pty", { tty: true });
  const { start } = suite;
  let c: typeof suite.c;
  beforeAll(() => {
    c = suite.c;
  });

  /** Waits until the reporter has finished `n` reports (each ends in "."), or 20 s. */
  const reports = (processId: string, n: number) =>
    c.waitFor(() => c.output(processId).toString().split(".\r\n").length > n, 20_000).catch(() => {});

  test("is advertised", async () => {
    expect((await c.ok("environment/info", {})).extensions.ptySize).toBe(1);
  });

  test("size at start, then resizePty: the child gets SIGWINCH and stty size shows the new size", async () => {
    const { r, processId } = await start(["bash", "-c", SIZE_REPORTER], { size: { rows: 40, cols: 150 } });
    expect(r.result).toEqual({ processId, sandboxType: "none" });
    const output = () => c.output(processId).toString();
    // Waited for by its reports' ends, then compared whole: a failure shows what the child printed.
    await reports(processId, 1);
    expect(output()).toBe("40 150\r\n.\r\n");
    expect(await c.ok("process/resizePty", { processId, size: { rows: 50, cols: 200 } })).toEqual({});
    await reports(processId, 2);
    expect(output()).toBe("40 150\r\n.\r\nwinch\r\n50 200\r\n.\r\n");
    await c.ok("process/resizePty", { processId, size: { rows: MAX_PTY_ROWS, cols: MAX_PTY_COLS } });
    await c.waitFor(() => c.output(processId).toString().endsWith(`winch\r\n${MAX_PTY_ROWS} ${MAX_PTY_COLS}\r\n.\r\n`));
    await c.ok("process/terminate", { processId });
    await c.processDone(processId);
  });

  test("without size the reference's 24x80", async () => {
    const { processId } = await start(["stty", "size"]);
    await c.processDone(processId);
    expect(c.output(processId).toString()).toBe("24 80\r\n");
  });

  test("out-of-range sizes are -32602 naming the bounds, at start and on resize", async () => {
    const bounds = `rows must be 1 to ${MAX_PTY_ROWS}, cols 1 to ${MAX_PTY_COLS}`;
    for (const size of [{ rows: 0, cols: 80 }, { rows: 24, cols: 0 }, { rows: MAX_PTY_ROWS + 1, cols: 80 }, { rows: 24, cols: MAX_PTY_COLS + 1 }]) {
      const { r } = await start(["true"], { size });
      expect(r.error).toEqual({ code: -32602, message: `PTY size ${size.rows}x${size.cols} (rows x cols) is out of range: ${bounds}` });
    }
    const negative = await start(["true"], { size: { rows: -1, cols: 80 } });
    expect(negative.r.error).toEqual({ code: -32602, message: "invalid number" });
    const { processId } = await start(["bash", "-c", SIZE_REPORTER]);
    await c.waitFor(() => c.output(processId).toString() === "24 80\r\n.\r\n");
    const bad = await c.call("process/resizePty", { processId, size: { rows: 0, cols: 0 } });
    expect(bad.error).toEqual({ code: -32602, message: `PTY size 0x0 (rows x cols) is out of range: ${bounds}` });
    const missing = await c.call("process/resizePty", { processId, size: { rows: 10 } });
    expect(missing.error).toEqual({ code: -32602, message: "missing field `cols`" });
    await c.ok("process/terminate", { processId });
    await c.processDone(processId);
  });

  test("size on a pipe process, or resizing one, is -32602; an unknown id is -32600", async () => {
    const { r } = await start(["true"], { tty: false, size: { rows: 10, cols: 10 } });
    expect(r.error).toEqual({ code: -32602, message: "`size` is only valid when `tty` is true: a pipe process has no terminal" });
    const pipe = await start(["sleep", "5"], { tty: false });
    const resize = await c.call("process/resizePty", { processId: pipe.processId, size: { rows: 10, cols: 10 } });
    expect(resize.error).toEqual({ code: -32602, message: `process ${pipe.processId} has no terminal to resize: it was started with \`tty\` false` });
    await c.ok("process/terminate", { processId: pipe.processId });
    await c.processDone(pipe.processId);
    const unknown = await c.call("process/resizePty", { processId: "nope", size: { rows: 10, cols: 10 } });
    expect(unknown.error).toEqual({ code: -32600, message: "unknown process id nope" });
  });

  test("resizing a process that has exited is accepted and does nothing", async () => {
    const { processId } = await start(["true"]);
    await c.processDone(processId);
    expect(await c.ok("process/resizePty", { processId, size: { rows: 30, cols: 100 } })).toEqual({});
  });
});
