/**
 * A relay stream as a server transport, against a rendezvous that stops
 * reading: a connection that sends megabytes is held back (congested)
 * instead of having its stream reset by the relay's per-stream bound; a
 * stream the server stopped reading takes a bounded number of messages.
 */
import { afterEach, expect, test } from "bun:test";
import { ExecServer } from "../../src/server/exec-server.ts";
import { NoiseStreamReceiver, NoiseStreamSender } from "../../src/remote/noise/index.ts";
import { handshakeFrame, RELAY_MAX_STREAM_WAITING_BYTES, resumeFrame } from "../../src/remote/relay/index.ts";
import { REMOTE_STREAM_IN_FLIGHT_BYTES, REMOTE_STREAM_PAUSED_INBOUND_MESSAGES } from "../../src/remote/limits.ts";
import { StreamTransport } from "../../src/remote/stream-transport.ts";
import { SilentRendezvous } from "../helpers/fake-rendezvous.ts";
import { waitUntil } from "../helpers/wait.ts";
import { startRelayClient } from "./relay/harness.ts";

const A = "aaaaaaaa-0000-4000-8000-000000000001";
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** An active relay stream (on a rendezvous that reads nothing) served as a transport with a fixed key both ways. */
async function streamTransport() {
  const silent = new SilentRendezvous([resumeFrame(A), handshakeFrame(A, new Uint8Array([1]))]);
  cleanups.push(() => silent.stop());
  const { handler } = startRelayClient(silent.url, cleanups, { pingIntervalMs: 60_000, pongTimeoutMs: 60_000 });
  await waitUntil(() => handler.streams.get(A)?.state === "active", 5_000, "an active stream");
  const stream = handler.streams.get(A)!;
  const key = new Uint8Array(32).fill(7);
  const transport = new StreamTransport(stream, new NoiseStreamSender(key), new NoiseStreamReceiver(key));
  const connection = new ExecServer().connect(transport, { parseErrorPrefix: "test: ", detachOnClose: true });
  transport.connection = connection;
  cleanups.push(() => connection.closedByTransport());
  return { handler, stream, transport, connection, peer: new NoiseStreamSender(key) };
}

test("while the server does not read a stream, 128 messages wait; the 129th resets the stream alone", async () => {
  const { handler, stream, transport, peer } = await streamTransport();
  transport.pauseReceiving();
  const message = new TextEncoder().encode(JSON.stringify({ id: 1, result: {} }));
  for (let i = 0; i < REMOTE_STREAM_PAUSED_INBOUND_MESSAGES; i++) {
    for (const r of peer.send(message)) transport.onData({ seq: r.seq, payload: r.ciphertext });
  }
  expect(stream.state).toBe("active");
  for (const r of peer.send(message)) transport.onData({ seq: r.seq, payload: r.ciphertext });
  expect(stream.state).toBe("closed");
  expect(handler.closed).toEqual([{ id: A, why: `more than ${REMOTE_STREAM_PAUSED_INBOUND_MESSAGES} messages arrived while the stream was not read` }]);
});

test("a stalled rendezvous: the stream's connection becomes congested, never reset, and keeps its frames", async () => {
  const { handler, stream, connection } = await streamTransport();
  // 8 MiB of notifications, far past what the relay lets one stream have waiting (1 MiB).
  const frame = JSON.stringify({ method: "x", params: { pad: "y".repeat(64 * 1024) } });
  for (let i = 0; i < 128; i++) connection.send(frame);
  // The relay reads nothing: the first bytes sit on the socket, the rest must wait here, in order.
  await waitUntil(() => stream.waitingBytes > 0, 5_000, "records waiting for the socket");
  expect(stream.state).toBe("active");
  expect(handler.closed).toEqual([]);
  expect(stream.waitingBytes).toBeLessThanOrEqual(REMOTE_STREAM_IN_FLIGHT_BYTES + 64 * 1024);
  expect(stream.waitingBytes).toBeLessThan(RELAY_MAX_STREAM_WAITING_BYTES);
  expect(connection.ready()).toBeInstanceOf(Promise); // Producers wait, as on a backed-up WebSocket.
});
