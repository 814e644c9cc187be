/** Test harness for the relay client. */
import {
  RelayClient,
  type RelayClientEvent,
  type RelayClientOptions,
  type RelayDataIn,
  type RelayStream,
  type RelayStreamHandler,
} from "../../../src/remote/relay/index.ts";
import { type Clock, systemClock } from "../../../src/server/clock.ts";

/** The handshake reply RecordingHandler sends by default. */
export const MSG2 = new Uint8Array([4, 5]);

/** A RelayStreamHandler that records what reaches it, standing in for the Noise layer; `autoAccept` answers every handshake with it and activates the stream. */
export class RecordingHandler implements RelayStreamHandler {
  readonly opened: { stream: RelayStream; message1: Uint8Array }[] = [];
  readonly data: { id: string; data: RelayDataIn }[] = [];
  readonly closed: { id: string; why: string }[] = [];
  readonly streams = new Map<string, RelayStream>();

  constructor(private readonly autoAccept: Uint8Array | null = null) {}

  onOpen(stream: RelayStream, message1: Uint8Array): void {
    this.opened.push({ stream, message1 });
    this.streams.set(stream.id, stream);
    if (this.autoAccept && stream.sendHandshake(this.autoAccept)) stream.activate();
  }

  onData(stream: RelayStream, data: RelayDataIn): void {
    this.data.push({ id: stream.id, data });
  }

  onClose(stream: RelayStream, why: string): void {
    this.closed.push({ id: stream.id, why });
  }
}

/** A client with fast timers, its events, the delays it scheduled, and its logs. */
export function startRelayClient(url: string, cleanups: (() => unknown)[], over: Partial<RelayClientOptions> = {}) {
  const events: RelayClientEvent[] = [];
  const logs: string[] = [];
  const scheduled: number[] = [];
  const clock: Clock = { now: systemClock.now, after: (ms, fn) => (scheduled.push(ms), systemClock.after(ms, fn)) };
  const handler = new RecordingHandler(MSG2);
  const client = new RelayClient({
    url,
    handler,
    reregister: async () => url,
    onEvent: (e) => events.push(e),
    log: (line) => logs.push(line),
    clock,
    random: () => 0.25,
    pingIntervalMs: 40,
    pongTimeoutMs: 1_000,
    reconnectBaseMs: 40,
    ...over,
  });
  void client.start();
  cleanups.push(() => client.stop());
  const connections = () => events.filter((e) => e.type === "connected").length;
  return { client, handler, events, logs, scheduled, connections };
}

