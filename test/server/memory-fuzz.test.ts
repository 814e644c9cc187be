/**
 * Large-but-legal messages (4–15 MiB: fs/writeFile, process/write, big unknown
 * fields, a third in up to 1,000 continuation frames) mixed with large and
 * small malformed ones, from three connections at once: every message gets
 * its exact answer, the peak stays under the stated bound, and resident
 * memory comes back near where it started. Writes go only to a temp dir, and
 * process/write only to a `cat > /dev/null` the test starts.
 */
import { expect, setDefaultTimeout, test } from "bun:test";
import { type BigMessage, bigMessages, initializeRaw, sendAndAwaitAnswers, startSink, unexpectedAnswers } from "../helpers/big-messages.ts";
import { procField, rssBytes } from "../helpers/proc.ts";
import { RawWs } from "../helpers/raw-ws.ts";
import { RawClient } from "../helpers/rpc-client.ts";
import { startServer, tempDir } from "../helpers/server.ts";
import { waitUntil, waitUntilSteady } from "../helpers/wait.ts";
import { INCOMING_LARGE_BYTES_IN_FLIGHT } from "../../src/server/limits.ts";

setDefaultTimeout(60_000);

const MiB = 1 << 20;
const CONNECTIONS = 3;
const TOTAL_BYTES = 150 * MiB;
/** Memory must come back within this of where it started … */
const RETURN_SLACK_BYTES = 50 * MiB;
/** … this soon after the last answer. */
const RETURN_DEADLINE_MS = 10_000;
/**
 * The stated peak: while handled, a large message costs up to ~7× its size
 * (its bytes, their text, the parsed strings, decoded bytes, a copy for the
 * child's stdin; measured ≤ 100 MiB for 15 MiB), and at most
 * INCOMING_LARGE_BYTES_IN_FLIGHT of them are handled at once.
 */
const PEAK_ABOVE_START_BYTES = 7 * INCOMING_LARGE_BYTES_IN_FLIGHT;

test("large and malformed messages from 3 connections: exact answers, bounded peak, memory back within 50 MiB in 10 s", async () => {
  await using server = await startServer();
  using dir = tempDir();
  const pid = server.proc.pid;
  const clients: RawWs[] = [];
  try {
    const workloads: BigMessage[][] = [];
    for (let c = 0; c < CONNECTIONS; c++) {
      const ws = await RawWs.connect(server.url);
      clients.push(ws);
      await initializeRaw(ws, `memory-fuzz-${c}`);
      await startSink(ws, "sink");
      workloads.push(bigMessages({ dirUri: dir.uri, processId: "sink", seed: 20261206 + c, totalBytes: TOTAL_BYTES / CONNECTIONS }));
    }
    const start = rssBytes(pid);
    const answers = await Promise.all(clients.map((ws, c) => sendAndAwaitAnswers(ws, workloads[c]!, 40_000)));
    expect(workloads.flatMap((w, c) => unexpectedAnswers(w, answers[c]!))).toEqual([]);

    await waitUntil(() => rssBytes(pid) <= start + RETURN_SLACK_BYTES, RETURN_DEADLINE_MS, `VmRSS back within 50 MiB of ${start >> 20} MiB`);
    expect(procField(pid, "status", "VmHWM") * 1024).toBeLessThan(start + PEAK_ABOVE_START_BYTES);
    const after = await sendAndAwaitAnswers(clients[0]!, [{ kind: "status", bytes: Buffer.from('{"id":7,"method":"environment/status"}'), fragments: 1 }], 10_000);
    expect(after).toEqual([{ id: 7, result: { status: "ready" } }]);
  } finally {
    for (const ws of clients) ws.close();
  }
});

test("a large message waits, unread, while others hold the room for large messages, and is answered once one is done", async () => {
  await using server = await startServer();
  const clients: RawWs[] = [];
  try {
    for (let c = 0; c < 3; c++) {
      clients.push(await RawWs.connect(server.url));
      await initializeRaw(clients[c]!, `room-${c}`);
    }
    const [a, b, waiting] = clients as [RawWs, RawWs, RawWs];
    const answered: unknown[] = [];
    for (const ws of clients) ws.onText = (text) => answered.push(JSON.parse(text).id);
    // Two fragmented messages past 1 MiB: each holds room for the largest message (its size unknown) — all of it.
    const head = (id: number) => Buffer.from(`{"id":${id},"method":"environment/status","pad":"${"x".repeat(MiB)}`);
    a.send(0x1, head(10), false);
    b.send(0x1, head(20), false);
    waiting.text(`{"id":30,"method":"environment/status","pad":"${"y".repeat(15 * MiB)}"}`);
    // The third connection is not read: its bytes stop moving with most of them still unsent.
    const unsent = await waitUntilSteady(() => waiting.queuedBytes, "the executor to stop reading the third connection");
    expect(unsent).toBeGreaterThan(0);
    expect(answered).toEqual([]);
    a.send(0x0, Buffer.from('"}'), true);
    await waitUntil(() => answered.length === 2, 10_000, "answers to the first and the waiting message");
    expect(answered).toEqual([10, 30]);
    b.send(0x0, Buffer.from('"}'), true);
    await waitUntil(() => answered.length === 3, 10_000, "the last answer");
    expect(answered).toEqual([10, 30, 20]);
  } finally {
    for (const ws of clients) ws.close();
  }
});

test("regression: writes stuck in children that never read do not keep the large-message room from other connections", async () => {
  await using server = await startServer();
  using dir = tempDir();
  const stuck: RawClient[] = [];
  try {
    // Enough stuck writers to hold the whole room if a reservation lasted until the answer.
    for (let i = 0; i * 11 * MiB < INCOMING_LARGE_BYTES_IN_FLIGHT + 11 * MiB; i++) {
      const c = await RawClient.websocket(server.url);
      stuck.push(c);
      await c.initialize();
      await c.ok("process/start", { processId: "deaf", argv: ["sleep", "60"], cwd: dir.uri, env: {}, tty: false, pipeStdin: true });
      // 11 MiB into a pipe nobody reads: never answered while the child lives.
      c.sendRaw(JSON.stringify({ id: 99, method: "process/write", params: { processId: "deaf", writeId: "w", chunk: Buffer.alloc(11 * MiB, 7).toString("base64") } }));
    }
    const other = await RawClient.websocket(server.url);
    stuck.push(other);
    await other.initialize();
    const data = Buffer.alloc(2 * MiB, 3);
    const answer = await other.call("fs/writeFile", { path: `${dir.uri}/other.bin`, dataBase64: data.toString("base64") }, 15_000);
    expect(answer.result).toEqual({});
  } finally {
    for (const c of stuck) c.close();
  }
});
