/**
 * The virtual streams of one rendezvous socket, demultiplexed by `stream_id`
 * with 0.169.0's rules (remote.md §5.8). A stream is *pending* from its first
 * handshake frame until the Noise layer activates it (after validating the
 * harness), then *active* until either side resets it or the socket closes.
 * Streams never outlive their socket.
 */
import { dataFrame, handshakeFrame, type RelayFrame, resetFrame } from "./frame.ts";
import type { OutgoingFrame } from "./frame-writer.ts";
import { RELAY_MAX_ACTIVE_STREAMS, RELAY_MAX_HANDSHAKE_FAILURES, RELAY_MAX_PENDING_STREAMS, RELAY_MAX_QUEUED_HANDSHAKES } from "./limits.ts";
import type { InboundAction, RelayDataIn } from "./validate.ts";

/** What the Noise stream layer implements to receive streams. */
export interface RelayStreamHandler {
  /** A harness opened `stream` (now pending) with Noise message 1. Answer with `sendHandshake`, then `activate`, or `fail`. */
  onOpen(stream: RelayStream, message1: Uint8Array): void;
  /** One record for an active stream, in arrival order (the Noise layer reorders by `seq`). */
  onData(stream: RelayStream, data: RelayDataIn): void;
  /** `stream` is gone (reset by either side, or its socket closed): cancel its pending work. Called once per stream. */
  onClose(stream: RelayStream, why: string): void;
}

/** How the table reaches its socket. */
export interface StreamSink {
  /** Queues a control frame (handshake reply, reset) if the socket can take it now, ahead of waiting data; false otherwise. */
  trySend(frame: RelayFrame): boolean;
  /** Sends a frame for `stream`, waiting while the socket is backed up. A record frame's buffers are handed over. */
  send(frame: OutgoingFrame, stream: RelayStream): Promise<void>;
  /** Closes the socket (it will be re-dialled), e.g. after too many handshake failures. */
  drop(why: string): void;
  /** `stream` is gone: its frames still waiting to be sent are discarded (their senders get an error). */
  forget(stream: RelayStream): void;
  log(line: string): void;
}

export type StreamState = "pending" | "active" | "closed";

/**
 * One virtual stream. The object is the stream's identity: after a reset the
 * same id may be reused by a new stream, and calls on the old object (a
 * validation that finishes late) do nothing.
 */
export class RelayStream {
  state: StreamState = "pending";
  /** Bytes of this stream's frames waiting for the socket to drain (kept by the sink). */
  waitingBytes = 0;

  constructor(
    readonly id: string,
    private readonly table: StreamTable,
  ) {}

  /** pending → active, once message 2 is queued. False if the stream is no longer pending. */
  activate(): boolean {
    if (this.state !== "pending") return false;
    this.state = "active";
    this.table.settled(this);
    return true;
  }

  /**
   * Queues Noise message 2. It must be queued at once (§5.5): when the socket
   * cannot take it, the whole connection is dropped and false is returned.
   */
  sendHandshake(payload: Uint8Array): boolean {
    return this.state === "pending" && this.table.sendNow(handshakeFrame(this.id, payload));
  }

  /** Sends one record (`seq` = the nonce it consumed). Resolves once the socket took it; rejects if the stream or socket is gone. */
  sendData(seq: number, payload: Uint8Array, trace?: { traceparent?: string; tracestate?: string }): Promise<void> {
    if (this.state !== "active") return Promise.reject(new Error(`relay stream ${this.id} is ${this.state}`));
    return this.table.sink.send({ ...dataFrame(this.id, seq, payload), ...trace }, this);
  }

  /**
   * Sends one sealed record (`seq` = its nonce) as a data frame, its pieces
   * written straight into the frame; they are the relay's from here on (freed
   * once written). Resolves and rejects as `sendData`.
   */
  sendRecord(record: { readonly seq: number; readonly parts: readonly Uint8Array[]; readonly byteLength: number }): Promise<void> {
    if (this.state !== "active") return Promise.reject(new Error(`relay stream ${this.id} is ${this.state}`));
    return this.table.sink.send({ streamId: this.id, seq: record.seq, parts: record.parts, byteLength: record.byteLength }, this);
  }

  /** Ends the stream: sends a reset (`noise_relay_protocol_error`), then `onClose(why)`. */
  reset(why: string): void {
    this.table.resetStream(this, why);
  }

  /** A failed handshake: reset, counting one failure toward the socket's budget. */
  fail(why: string): void {
    this.table.resetStream(this, why, true);
  }
}

export class StreamTable {
  private readonly streams = new Map<string, RelayStream>();
  /** Pending streams handed to the handler (being validated), at most RELAY_MAX_PENDING_STREAMS. */
  private readonly validating = new Set<RelayStream>();
  /** Pending streams waiting for a validation slot, in arrival order, with their message 1. */
  private queued: { stream: RelayStream; message1: Uint8Array }[] = [];
  private starting = false;
  private failures = 0;
  private closed = false;

  constructor(
    private readonly handler: RelayStreamHandler,
    readonly sink: StreamSink,
  ) {}

  /** Applies one classified inbound frame. */
  handle(inbound: InboundAction): void {
    if (this.closed) return;
    switch (inbound.action) {
      case "drop":
        return this.sink.log(`relay frame dropped: ${inbound.why}`);
      case "ignore":
        return;
      case "reset":
        return this.resetId(inbound.streamId, inbound.why, true);
      case "peer-reset": {
        const stream = this.streams.get(inbound.streamId);
        if (stream) this.remove(stream, "reset by the harness");
        return;
      }
      case "handshake":
        return this.open(inbound.streamId, inbound.payload);
      case "data": {
        const stream = this.streams.get(inbound.streamId);
        if (stream?.state === "active") return this.handler.onData(stream, inbound.data);
        return this.resetId(inbound.streamId, stream ? "relay data before the handshake completed" : "relay data for an unknown stream", stream !== undefined);
      }
    }
  }

  /** Streams now pending and active. */
  counts(): { pending: number; active: number } {
    let pending = 0;
    for (const s of this.streams.values()) if (s.state === "pending") pending++;
    return { pending, active: this.streams.size - pending };
  }

  /** The socket is gone: every stream ends with it. */
  closeAll(why: string): void {
    this.closed = true;
    for (const stream of [...this.streams.values()]) this.remove(stream, why);
  }

  sendNow(frame: RelayFrame): boolean {
    if (this.closed) return false;
    if (this.sink.trySend(frame)) return true;
    this.sink.drop("a handshake reply could not be queued at once");
    return false;
  }

  resetStream(stream: RelayStream, why: string, failure = false): void {
    if (stream.state === "closed" || this.streams.get(stream.id) !== stream) return;
    this.resetId(stream.id, why, failure && stream.state === "pending");
  }

  private open(id: string, message1: Uint8Array): void {
    const existing = this.streams.get(id);
    if (existing?.state === "active") return this.resetId(id, "handshake for an already active stream", false);
    if (existing) return this.resetId(id, "handshake while the stream's handshake is pending", true);
    if (this.counts().active >= RELAY_MAX_ACTIVE_STREAMS) return this.resetId(id, "Noise relay has too many active streams", false);
    if (this.validating.size >= RELAY_MAX_PENDING_STREAMS && this.queued.length >= RELAY_MAX_QUEUED_HANDSHAKES) {
      return this.resetId(id, "Noise relay has too many pending handshakes", false);
    }
    const stream = new RelayStream(id, this);
    this.streams.set(id, stream);
    this.queued.push({ stream, message1 });
    this.startQueued();
  }

  /** `stream` is no longer being validated (active or gone): its slot goes to the next queued handshake. */
  settled(stream: RelayStream): void {
    if (this.validating.delete(stream)) this.startQueued();
  }

  /** Hands queued handshakes to the handler, oldest first, while validation slots are free. */
  private startQueued(): void {
    if (this.starting) return; // The handler may settle a stream from inside onOpen; the loop below goes on.
    this.starting = true;
    try {
      while (!this.closed && this.validating.size < RELAY_MAX_PENDING_STREAMS && this.queued.length > 0) {
        const { stream, message1 } = this.queued.shift()!;
        if (this.counts().active >= RELAY_MAX_ACTIVE_STREAMS) {
          this.resetId(stream.id, "Noise relay has too many active streams", false);
          continue;
        }
        this.validating.add(stream);
        this.handler.onOpen(stream, message1);
      }
    } finally {
      this.starting = false;
    }
  }

  /** Removes the stream under `id` if any, sends a reset, and counts a failure if asked. */
  private resetId(id: string, why: string, failure: boolean): void {
    const stream = this.streams.get(id);
    if (stream) this.remove(stream, why);
    this.sink.log(`relay stream ${id} reset: ${why}`);
    // Not waited for: the stream is already gone here. Refused only while the socket is backed up past its bound.
    if (!this.sink.trySend(resetFrame(id))) this.sink.log(`relay reset for ${id} not sent: the rendezvous socket is backed up`);
    if (failure && ++this.failures >= RELAY_MAX_HANDSHAKE_FAILURES) {
      this.sink.drop(`${this.failures} handshake failures on this relay connection`);
    }
  }

  private remove(stream: RelayStream, why: string): void {
    // A stream still queued was never handed to the handler: it does not hear of its end either.
    const known = stream.state === "active" || this.validating.has(stream);
    this.streams.delete(stream.id);
    if (stream.state === "pending") this.queued = this.queued.filter((q) => q.stream !== stream);
    stream.state = "closed";
    this.sink.forget(stream);
    if (known) this.handler.onClose(stream, why);
    this.settled(stream);
  }
}
