/**
 * A client that sends requests without reading the answers meets TCP
 * back-pressure: the executor stops reading instead of queueing answers
 * without bound, and every answer still arrives, in order, once the client
 * reads again.
 */
import { afterEach, expect, setDefaultTimeout, test } from "bun:test";
import { rssBytes } from "../helpers/proc.ts";
import { RawWs } from "../helpers/raw-ws.ts";
import { type RunningServer, startServer } from "../helpers/server.ts";
import { waitUntil, waitUntilSteady } from "../helpers/wait.ts";

setDefaultTimeout(60_000);

const REQUESTS = 200_000;
/** 200k requests of ~300 bytes: ~60 MB, several times what loopback socket buffers take in. */
const REQUEST_PADDING = 240;
const MiB = 1 << 20;

let server: RunningServer | null = null;
afterEach(async () => {
  await server?.stop("SIGKILL");
  server = null;
});

test("requests from a client that reads nothing stop being read; all answers arrive once it reads", async () => {
  server = await startServer();
  const ws = await RawWs.connect(server.url);
  try {
    const ids: number[] = [];
    ws.onText = (text) => {
      const m = JSON.parse(text) as { id?: number; error?: unknown };
      if (typeof m.id === "number" && !m.error) ids.push(m.id);
    };
    ws.text(JSON.stringify({ id: 0, method: "initialize", params: { clientName: "flood-test" } }));
    await waitUntil(() => ids.length === 1, 10_000, "initialize");
    ws.text(JSON.stringify({ method: "initialized", params: {} }));
    ws.pause();
    // Padded (an unknown member is ignored) so the requests alone far outgrow the kernel's socket buffers.
    const pad = "x".repeat(REQUEST_PADDING);
    for (let id = 1; id <= REQUESTS; id++) ws.text(`{"id":${id},"method":"environment/info","params":null,"pad":"${pad}"}`);
    // Wait until the executor stops taking requests: the client's unsent bytes stop moving.
    const last = await waitUntilSteady(() => ws.queuedBytes, "the executor to stop reading");
    // Stopped with requests left unread, and with memory far below the answers it would have queued.
    expect(last).toBeGreaterThan(0);
    expect(rssBytes(server.proc.pid)).toBeLessThan(200 * MiB);
    ws.resume();
    await waitUntil(() => ids.length === REQUESTS + 1, 30_000, "every answer");
    expect(ids.every((id, i) => id === i)).toBe(true);
  } finally {
    ws.close();
  }
});
