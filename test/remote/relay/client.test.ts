/** The rendezvous client against a real WebSocket server on 127.0.0.1 (remote.md §3, §5.8). */
import { afterEach, describe, expect, test } from "bun:test";
import {
  dataFrame,
  encodeRelayFrame,
  handshakeFrame,
  RELAY_MAX_FRAME_BYTES,
  RELAY_RESET_REASON,
  RelayClient,
  type RelayClientEvent,
  type RelayClientOptions,
  RelayFrameTooLargeError,
  relayFrame,
  resetFrame,
} from "../../../src/remote/relay/index.ts";
import { RecordSealer } from "../../../src/remote/noise/index.ts";
import { FakeRendezvous } from "../../helpers/fake-rendezvous.ts";
import { waitUntil } from "../../helpers/wait.ts";
import { MSG2, startRelayClient } from "./harness.ts";

const A = "aaaaaaaa-0000-4000-8000-000000000001";
const B = "bbbbbbbb-0000-4000-8000-000000000002";
const MSG1 = new Uint8Array([1, 2, 3]);

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
const startClient = (url: string, over: Partial<RelayClientOptions> = {}) => startRelayClient(url, cleanups, over);

function startFake(): FakeRendezvous {
  const fake = new FakeRendezvous();
  cleanups.push(() => fake.stop());
  return fake;
}

describe("connect and keepalive", () => {
  test("dials the URL with an x-request-id, no Authorization and no subprotocol", async () => {
    const fake = startFake();
    const { connections } = startClient(fake.url("/relay?sig=abc"));
    await fake.waitFor(() => fake.connected, "the client's socket");
    await waitUntil(() => connections() === 1, 5_000, "the connected event");
    const { path, headers } = fake.upgrades[0]!;
    expect(path).toBe("/relay?sig=abc");
    expect(headers["x-request-id"]).toMatch(/^req_[0-9a-f]{32}$/);
    expect(headers.authorization).toBeUndefined();
    expect(headers["sec-websocket-protocol"]).toBeUndefined();
  });

  test("pings every interval (the first one interval after connecting); pongs keep the socket up past the pong timeout", async () => {
    const fake = startFake();
    const { events, scheduled } = startClient(fake.url(), { pingIntervalMs: 30, pongTimeoutMs: 100 });
    await fake.waitFor(() => fake.pings >= 8, "8 pings"); // ≥ 240 ms: more than twice the pong timeout
    expect(events.map((e) => e.type)).toEqual(["connected"]);
    expect(scheduled.slice(0, 3)).toEqual([10_000, 100, 30]); // connect timeout, pong deadline, first ping
  });

  test("no pong within the timeout drops the socket with pong_timeout, then reconnects", async () => {
    const { SilentRendezvous } = await import("../../helpers/fake-rendezvous.ts");
    const silent = new SilentRendezvous();
    cleanups.push(() => silent.stop());
    const { events } = startClient(silent.url, { pingIntervalMs: 20, pongTimeoutMs: 100 });
    await waitUntil(() => events.some((e) => e.type === "disconnected"), 5_000, "the pong timeout");
    expect(events.slice(0, 3)).toEqual([
      { type: "connected", url: silent.url },
      { type: "disconnected", why: "pong_timeout" },
      { type: "retry", attempt: 0, delayMs: 25 },
    ]);
  });
});

describe("reconnect", () => {
  test("after the rendezvous closes the socket: same URL, jittered backoff reset by each successful connect", async () => {
    const fake = startFake();
    const { events, connections } = startClient(fake.url());
    await waitUntil(() => connections() === 1, 5_000, "the first connection");
    fake.closeSocket();
    await waitUntil(() => connections() === 2, 5_000, "the second connection");
    fake.closeSocket();
    await waitUntil(() => connections() === 3, 5_000, "the third connection");
    const disconnected = { type: "disconnected", why: "closed by the rendezvous (code 1001)" };
    const retry = { type: "retry", attempt: 0, delayMs: 25 }; // base 40: a point in [20, 40) at random 0.25
    const connected = { type: "connected", url: fake.url() };
    expect(events).toEqual([connected, disconnected, retry, connected, disconnected, retry, connected] as RelayClientEvent[]);
    expect(fake.upgrades.map((u) => u.path)).toEqual(["/relay", "/relay", "/relay"]);
  });

  test("failed connects back off exponentially with jitter", async () => {
    const closed = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
    const url = `ws://127.0.0.1:${closed.port}/gone`;
    closed.stop(true);
    const { events } = startClient(url, { random: () => 0.5 });
    await waitUntil(() => events.filter((e) => e.type === "retry").length >= 4, 5_000, "four retries");
    const retries = events.filter((e) => e.type === "retry").slice(0, 4);
    expect(retries).toEqual([30, 60, 120, 240].map((delayMs, attempt) => ({ type: "retry" as const, attempt, delayMs })));
  });

  test("an upgrade left unanswered fails after the connect timeout and is retried", async () => {
    const mute = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data: () => {} } });
    cleanups.push(() => mute.stop(true));
    const { events } = startClient(`ws://127.0.0.1:${mute.port}/`, { connectTimeoutMs: 100 });
    await waitUntil(() => events.some((e) => e.type === "retry"), 5_000, "a retry");
    const failed = events[0] as Extract<RelayClientEvent, { type: "connect-failed" }>;
    expect([failed.type, failed.error.message]).toEqual(["connect-failed", "rendezvous connect timed out after 100 ms"]);
  });

  test("a 403 on the upgrade asks the owner to re-register, then dials the URL it returns", async () => {
    const fake = startFake();
    fake.rejectNextUpgrade(403);
    const asked: number[] = [];
    const { events, connections } = startClient(fake.url("/first"), {
      reregister: async (status) => (asked.push(status), fake.url("/second")),
    });
    await waitUntil(() => connections() === 1, 5_000, "a connection");
    expect(asked).toEqual([403]);
    expect(events.map((e) => e.type)).toEqual(["connect-failed", "reregister", "connected"]);
    expect(events[2]).toEqual({ type: "connected", url: fake.url("/second") });
    expect(fake.upgrades.map((u) => u.path)).toEqual(["/first", "/second"]);
  });

  test("a failing re-registration stops the client: done rejects with its error", async () => {
    const fake = startFake();
    fake.rejectNextUpgrade(401);
    const { client } = startClient(fake.url(), { reregister: async () => Promise.reject(new Error("registration refused: 401")) });
    await expect(client.done).rejects.toThrow("registration refused: 401");
  });
});

describe("frames and streams", () => {
  async function connected(fake: FakeRendezvous) {
    const c = startClient(fake.url());
    await waitUntil(() => c.connections() === 1, 5_000, "a connection");
    return c;
  }

  test("two streams interleaved are demultiplexed by stream_id", async () => {
    const fake = startFake();
    const { handler } = await connected(fake);
    fake.openStream(A, MSG1);
    fake.openStream(B, MSG1);
    await fake.waitFor(() => fake.received.length === 2, "both handshake replies");
    expect(fake.received).toEqual([handshakeFrame(A, MSG2), handshakeFrame(B, MSG2)]);
    for (const [id, seq] of [[A, 0], [B, 0], [A, 1], [B, 1]] as const) fake.inject(dataFrame(id, seq, new Uint8Array([seq, id === A ? 0xa : 0xb])));
    await waitUntil(() => handler.data.length === 4, 5_000, "four records");
    expect(handler.data.map((d) => [d.id, [...d.data.payload]])).toEqual([[A, [0, 0xa]], [B, [0, 0xb]], [A, [1, 0xa]], [B, [1, 0xb]]]);
    await handler.streams.get(B)!.sendData(0, new Uint8Array([0xbb]));
    await handler.streams.get(A)!.sendData(0, new Uint8Array([0xaa]));
    await fake.waitFor(() => fake.received.length === 4, "two data frames");
    expect(fake.framesFor(A).at(-1)).toEqual(dataFrame(A, 0, new Uint8Array([0xaa])));
    expect(fake.framesFor(B).at(-1)).toEqual(dataFrame(B, 0, new Uint8Array([0xbb])));
  });

  test("a sealed record goes out as the data frame of its joined pieces, and its buffers are freed once written", async () => {
    const fake = startFake();
    const { handler } = await connected(fake);
    fake.openStream(A, MSG1);
    await fake.waitFor(() => fake.received.length === 1, "the handshake reply");
    const record = new RecordSealer(new Uint8Array(32).fill(9)).seal([Uint8Array.of(0, 0, 0xf0, 0), new Uint8Array(61_436).fill(0x5a)]);
    const joined = record.ciphertext;
    expect(record.parts.map((p) => p.byteLength)).toEqual([4, 61_436, 16]);
    await handler.streams.get(A)!.sendRecord(record);
    await fake.waitFor(() => fake.received.length === 2, "the data frame");
    expect(fake.received[1]).toEqual(dataFrame(A, 0, joined));
    expect(record.parts.map((p) => p.byteLength)).toEqual([0, 0, 0]);
  });

  test(`a frame larger than ${RELAY_MAX_FRAME_BYTES} bytes is refused before sending; one exactly at the cap goes out`, async () => {
    const fake = startFake();
    const { handler } = await connected(fake);
    fake.openStream(A, MSG1);
    await fake.waitFor(() => fake.received.length === 1, "the handshake reply");
    const stream = handler.streams.get(A)!;
    const fits = RELAY_MAX_FRAME_BYTES - 52; // 40 bytes of head, 12 of data framing (seq 1, 3-byte lengths)
    expect(encodeRelayFrame(dataFrame(A, 1, new Uint8Array(fits))).byteLength).toBe(RELAY_MAX_FRAME_BYTES);
    await expect(stream.sendData(1, new Uint8Array(fits + 1))).rejects.toThrow(new RelayFrameTooLargeError(RELAY_MAX_FRAME_BYTES + 1));
    await stream.sendData(1, new Uint8Array(fits));
    await fake.waitFor(() => fake.received.length === 2, "the frame at the cap");
  });

  test(`an incoming message over ${RELAY_MAX_FRAME_BYTES} bytes closes the socket with 1009, then the client reconnects`, async () => {
    const fake = startFake();
    const { events, connections } = await connected(fake);
    fake.inject(new Uint8Array(RELAY_MAX_FRAME_BYTES + 1));
    await waitUntil(() => connections() === 2, 5_000, "a reconnect");
    expect(events[1]).toEqual({ type: "disconnected", why: "rendezvous broke the WebSocket protocol: message too big" });
    expect(fake.closes[0]!.code).toBe(1009);
  });

  test("hostile frames are dropped or reset as 0.169.0 does, and the client stays up", async () => {
    const fake = startFake();
    const { handler, logs, events } = await connected(fake);
    fake.openStream(A, MSG1);
    await fake.waitFor(() => fake.received.length === 1, "the handshake reply");
    fake.inject({ ...dataFrame(A, 0, new Uint8Array([1])), version: 2 });
    fake.inject(dataFrame("  ", 0, new Uint8Array([1])));
    fake.inject(new Uint8Array([0xff, 0xff, 0xff]));
    fake.inject(new Uint8Array(0));
    fake.injectText('{"method":"initialize"}');
    fake.inject(resetFrame(A, ""));
    fake.inject(relayFrame(A, { kind: "heartbeat" }));
    fake.inject(handshakeFrame(B, new Uint8Array(0)));
    fake.inject(dataFrame(A, 0, new Uint8Array(0)));
    await fake.waitFor(() => fake.received.length === 3, "two resets");
    expect(fake.received.slice(1)).toEqual([resetFrame(B), resetFrame(A)]);
    expect(fake.received[2]!.body).toEqual({ kind: "reset", reason: RELAY_RESET_REASON });
    expect(logs).toEqual([
      "relay frame dropped: unsupported relay frame version 2",
      "relay frame dropped: relay frame without a stream id",
      "relay frame dropped: invalid relay frame: index out of range: 3 + 1 > 3",
      "relay frame dropped: unsupported relay frame version 0",
      "relay frame dropped: text message on the relay socket",
      "relay frame dropped: relay reset without a reason",
      `relay stream ${B} reset: relay handshake frame with an empty payload`,
      `relay stream ${A} reset: relay data frame with an empty payload`,
    ]);
    expect(handler.closed).toEqual([{ id: A, why: "relay data frame with an empty payload" }]);
    // Still the same socket, and it still serves streams.
    fake.openStream(A, MSG1);
    await fake.waitFor(() => fake.received.length === 4, "a new stream's handshake reply");
    expect(events.map((e) => e.type)).toEqual(["connected"]);
    expect(fake.opened).toBe(1);
  });

  test("streams end with their socket: the handler hears of each, and they do not come back after the reconnect", async () => {
    const fake = startFake();
    const { handler, connections } = await connected(fake);
    fake.openStream(A, MSG1);
    fake.openStream(B, MSG1);
    await fake.waitFor(() => fake.received.length === 2, "both handshake replies");
    fake.closeSocket();
    await waitUntil(() => connections() === 2, 5_000, "a reconnect");
    const why = "relay connection closed: closed by the rendezvous (code 1001)";
    expect(handler.closed).toEqual([{ id: A, why }, { id: B, why }]);
    fake.inject(dataFrame(A, 0, new Uint8Array([1])));
    await fake.waitFor(() => fake.received.length === 3, "the reset for the unknown stream");
    expect(fake.received[2]).toEqual(resetFrame(A));
  });
});
