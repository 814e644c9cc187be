/**
 * A rendezvous that stops reading: sends wait instead of queueing without
 * bound, and a stream that keeps sending without waiting is reset alone.
 */
import { afterEach, expect, test } from "bun:test";
import {
  handshakeFrame,
  RELAY_MAX_STREAM_WAITING_BYTES,
  RELAY_SEND_HIGH_WATER_BYTES,
  RelayClient,
  resumeFrame,
} from "../../../src/remote/relay/index.ts";
import { SilentRendezvous } from "../../helpers/fake-rendezvous.ts";
import { waitUntil } from "../../helpers/wait.ts";
import { MSG2, RecordingHandler, startRelayClient } from "./harness.ts";

const A = "aaaaaaaa-0000-4000-8000-000000000001";
const B = "bbbbbbbb-0000-4000-8000-000000000002";
const RECORD = new Uint8Array(60 * 1024 + 16); // One full Noise record: 60 KiB of plaintext and its tag.
/** Enough records to fill any loopback socket buffer several times over. */
const MAX_RECORDS = 2_000;

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

test("a stalled rendezvous: memory stays bounded, the stream that does not wait is reset alone, a waiting one waits", async () => {
  const greeting = [A, B].flatMap((id) => [resumeFrame(id), handshakeFrame(id, new Uint8Array([1]))]);
  const silent = new SilentRendezvous(greeting);
  cleanups.push(() => silent.stop());
  const { client, handler } = startRelayClient(silent.url, cleanups, { pingIntervalMs: 60_000, pongTimeoutMs: 60_000 });
  await waitUntil(() => handler.streams.get(B)?.state === "active", 5_000, "two active streams");
  const a = handler.streams.get(A)!;
  const conn = client.connection!;

  // A sends record after record without waiting for any of them.
  const outcomes: string[] = [];
  let maxQueued = 0;
  let issued = 0;
  for (; issued < MAX_RECORDS && a.state === "active"; issued++) {
    const seq = issued;
    a.sendData(seq, RECORD).then(
      () => void outcomes.push("sent"),
      (e: Error) => void outcomes.push(e.message),
    );
    maxQueued = Math.max(maxQueued, conn.queuedBytes);
  }
  await waitUntil(() => outcomes.length === issued, 5_000, "every send of A to settle");
  expect(a.state).toBe("closed");
  expect(handler.closed).toEqual([{ id: A, why: `more than ${RELAY_MAX_STREAM_WAITING_BYTES} bytes waiting for the rendezvous socket to drain` }]);
  const failed = outcomes.filter((o) => o !== "sent");
  expect(failed[0]).toBe(`relay stream ${A} is closed`); // Frames that were waiting are discarded with an error, not silently.
  expect(failed.at(-1)).toBe(`relay stream ${A} was reset: too many bytes waiting to be sent`);
  expect(failed.length).toBe(Math.floor(RELAY_MAX_STREAM_WAITING_BYTES / (RECORD.byteLength + 50)) + 1);
  expect(maxQueued).toBeLessThan(RELAY_SEND_HIGH_WATER_BYTES + RECORD.byteLength + 64);

  // B waits its turn: its send neither completes nor fails while the rendezvous reads nothing…
  let bOutcome = "waiting";
  const b = handler.streams.get(B)!.sendData(0, RECORD).then(
    () => (bOutcome = "sent"),
    (e: Error) => (bOutcome = e.message),
  );
  await Promise.resolve();
  expect(bOutcome).toBe("waiting");
  expect(handler.streams.get(B)!.state).toBe("active");
  // …and fails with the connection when it closes.
  await client.stop();
  await b;
  expect(bOutcome).toBe("the relay connection closed: relay client stopped");
});

test("a handshake reply is queued at once while another stream's data waits for the socket: the socket is kept", async () => {
  const C = "cccccccc-0000-4000-8000-000000000003";
  const silent = new SilentRendezvous([A, C].flatMap((id) => [resumeFrame(id), handshakeFrame(id, new Uint8Array([1]))]));
  cleanups.push(() => silent.stop());
  const handler = new RecordingHandler(); // Answers nothing by itself: C's reply comes once A's data waits.
  const logs: string[] = [];
  const client = new RelayClient({ url: silent.url, handler, reregister: async () => silent.url, log: (l) => logs.push(l), pingIntervalMs: 60_000, pongTimeoutMs: 60_000 });
  void client.start();
  cleanups.push(() => client.stop());
  await waitUntil(() => handler.streams.has(C), 5_000, "both handshakes");
  const [a, c] = [handler.streams.get(A)!, handler.streams.get(C)!];
  expect(a.sendHandshake(MSG2) && a.activate()).toBe(true);
  const conn = client.connection!;
  // A sends until one of its frames waits for the socket (well under the 1 MiB a stream may have waiting).
  let waiting = false;
  for (let seq = 0; seq < MAX_RECORDS && !waiting; seq++) {
    let settled = false;
    a.sendData(seq, RECORD).then(
      () => (settled = true),
      () => {}, // The waiting ones fail when the client stops.
    );
    await Promise.resolve();
    waiting = !settled;
  }
  expect(waiting).toBe(true);
  expect(conn.queuedBytes).toBeGreaterThanOrEqual(RELAY_SEND_HIGH_WATER_BYTES);
  expect(c.sendHandshake(MSG2)).toBe(true);
  expect(c.activate()).toBe(true);
  expect(client.connection).toBe(conn);
  expect(logs.filter((l) => l.includes("could not be queued"))).toEqual([]);
});
