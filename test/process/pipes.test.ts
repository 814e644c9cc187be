/**
 * A pipe child's stdio, at the spawn seam: real pipes (as the reference
 * gives), read one bounded chunk at a time even while the machine is busy,
 * so what the executor holds for a slow consumer stays bounded.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, readlinkSync } from "node:fs";
import { spawnChild } from "../../src/process/spawn.ts";
import { tempDir } from "../helpers/server.ts";

setDefaultTimeout(60_000);

const MiB = 1 << 20;
/** One pipe buffer (Linux's default capacity; less when the user's pipe quota is spent). */
const PIPE_BUFFER_BYTES = 64 * 1024;
/**
 * The most one read may return: Bun's file stream can join what the pipe
 * refilled with while its read completed (72 KiB was seen once in CI under
 * load), still a bound; the reader this guards against gathered 8.5 MiB.
 */
const MAX_READ_BYTES = 2 * PIPE_BUFFER_BYTES;
const dir = tempDir();
const noPty = { data() {}, end() {} };
const spec = (script: string) => ({ argv: ["/bin/sh", "-c", script], cwd: dir.path, env: { PATH: "/usr/bin:/bin" }, tty: false, pipeStdin: false });

/** How long a load process may outlive its test at most. */
const LOAD_MAX_SECONDS = 120;
/** Busy loops on every core, so the producer and the executor compete for CPU (where Bun's own pipes read ahead). */
let load: Bun.Subprocess[] = [];
beforeAll(() => {
  // Bounded by `timeout` too: if this test process is killed outright, its afterAll never runs.
  load = Array.from({ length: 3 }, () => Bun.spawn(["timeout", String(LOAD_MAX_SECONDS), "yes"], { stdio: ["ignore", "ignore", "ignore"] }));
});
afterAll(async () => {
  // SIGTERM: `timeout` passes it on to `yes` (a SIGKILL would leave `yes` running).
  for (const p of load) p.kill("SIGTERM");
  await Promise.all(load.map((p) => p.exited));
  dir[Symbol.dispose]();
});

async function readAll(stream: ReadableStream<Uint8Array>, pauseMs: () => number): Promise<{ total: number; largest: number; nonZero: number }> {
  const reader = stream.getReader();
  let total = 0;
  let largest = 0;
  let nonZero = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    largest = Math.max(largest, value.byteLength);
    for (const b of value) if (b !== 0) nonZero++;
    // A slow consumer: the producer refills the pipe while no read is pending.
    await Bun.sleep(pauseMs());
  }
  reader.releaseLock();
  return { total, largest, nonZero };
}

test("stdout and stderr are pipes, not sockets", async () => {
  const child = spawnChild(spec("[ -p /dev/stdout ] && echo out-pipe; [ -p /dev/stderr ] && echo err-pipe >&2"), noPty);
  const [out, err] = await Promise.all([new Response(child.stdout!.stream).text(), new Response(child.stderr!.stream).text()]);
  child.stdout!.close();
  child.stderr!.close();
  expect([out, err, await child.exited]).toEqual(["out-pipe\n", "err-pipe\n", 0]);
});

test("a producer faster than its reader, on a busy machine: every read is at most two pipe buffers, and every byte arrives", async () => {
  const size = 96 * MiB;
  const child = spawnChild(spec(`head -c ${size} /dev/zero; head -c ${size} /dev/zero >&2`), noPty);
  let n = 0;
  // Mostly back-to-back reads (where a reader that reads on while it can gathers the most), now and then a pause.
  const [out, err] = await Promise.all([readAll(child.stdout!.stream, () => (++n % 16 === 0 ? 5 : 0)), readAll(child.stderr!.stream, () => 0)]);
  expect([out.total, out.nonZero, err.total, err.nonZero, await child.exited]).toEqual([size, 0, size, 0, 0]);
  expect(out.largest).toBeLessThanOrEqual(MAX_READ_BYTES);
  expect(err.largest).toBeLessThanOrEqual(MAX_READ_BYTES);
});

test("the executor's read end is closed once the stream is done", async () => {
  const child = spawnChild(spec("echo bye"), noPty);
  const link = `/proc/self/fd/${(child.stdout as unknown as { readEnd: number }).readEnd}`;
  const pipe = readlinkSync(link);
  expect(pipe).toMatch(/^pipe:\[\d+\]$/);
  expect(await new Response(child.stdout!.stream).text()).toBe("bye\n");
  child.stdout!.close();
  child.stderr!.close();
  // Gone (the number may already name something else: compare what it names).
  expect(existsSync(link) ? readlinkSync(link) : "closed").not.toBe(pipe);
  await child.exited;
});
