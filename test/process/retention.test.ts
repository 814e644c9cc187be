/** What stays readable: the retained-output window and the post-close retention of a process. */
import { afterEach, expect, setDefaultTimeout, test } from "bun:test";
import { RawClient } from "../helpers/rpc-client.ts";
import { type RunningServer, startServer, tempDir } from "../helpers/server.ts";
import { waitUntil } from "../helpers/wait.ts";

setDefaultTimeout(30_000);

const ENV = { PATH: "/usr/bin:/bin" };
let server: RunningServer | undefined;
afterEach(async () => {
  await server?.stop("SIGKILL");
  server = undefined;
});

test("with the reference's 1 MiB window, the newest output stays readable; every chunk was still notified", async () => {
  using dir = tempDir();
  server = await startServer(["--retained-output-bytes", String(1024 * 1024)]);
  const c = await RawClient.websocket(server.url);
  await c.initialize();
  const size = 3_000_006;
  await c.ok("process/start", { processId: "big", argv: ["sh", "-c", `head -c ${size} /dev/zero | tr '\\0' x`], cwd: dir.uri, env: ENV, tty: false });
  const events = await c.processDone("big");
  expect(c.output("big").length).toBe(size);
  const read = await c.ok("process/read", { processId: "big" });
  const retained = read.chunks.reduce((n: number, ch: any) => n + Buffer.from(ch.chunk, "base64").length, 0);
  expect(retained).toBeLessThanOrEqual(1024 * 1024);
  expect(retained).toBeGreaterThan(1024 * 1024 - 64 * 1024);
  // The retained chunks are the newest ones, contiguous up to the last output chunk.
  const outputSeqs = events.filter((e) => e.method === "process/output").map((e) => e.params.seq);
  const readSeqs = read.chunks.map((ch: any) => ch.seq);
  expect(readSeqs).toEqual(outputSeqs.slice(outputSeqs.length - readSeqs.length));
});

test("a closed process is forgotten after the retention window; its id can be reused", async () => {
  using dir = tempDir();
  server = await startServer(["--exited-process-retention-ms", "300"]);
  const c = await RawClient.websocket(server.url);
  await c.initialize();
  const start = () => c.call("process/start", { processId: "r", argv: ["echo", "x"], cwd: dir.uri, env: ENV, tty: false });
  expect((await start()).result).toEqual({ processId: "r", sandboxType: "none" });
  await c.processDone("r");
  expect((await c.ok("process/read", { processId: "r" })).closed).toBe(true);
  expect((await start()).error).toEqual({ code: -32600, message: "process r already exists" });
  await waitUntil(async () => (await c.call("process/read", { processId: "r" })).error !== undefined, 10_000, "retention to end");
  expect((await c.call("process/read", { processId: "r" })).error).toEqual({ code: -32600, message: "unknown process id r" });
  expect((await start()).result).toEqual({ processId: "r", sandboxType: "none" });
});
