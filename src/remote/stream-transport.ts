/**
 * One handshaken relay stream as a server transport, exactly as a WebSocket
 * connection is one: outgoing frames are framed, sealed (once, `seq` = nonce)
 * and handed to the relay in order; incoming records are reordered,
 * decrypted and reassembled into messages for the Connection. Any Noise or
 * relay failure resets the stream; its end detaches the session (resumable).
 */
import { type TraceContext, traceContextOf } from "../protocol/trace-context.ts";
import type { ConnectionTransport, Frame, KeptFrame, SendResult } from "../server/flow.ts";
import type { Connection } from "../server/connection.ts";
import { MAX_INCOMING_MESSAGE_BYTES } from "../server/limits.ts";
import { NoiseError, type NoiseStreamReceiver, type NoiseStreamSender, type SealedRecord } from "./noise/index.ts";
import type { RelayDataIn, RelayStream } from "./relay/index.ts";
import { REMOTE_STREAM_CONGESTED_BYTES, REMOTE_STREAM_IN_FLIGHT_BYTES, REMOTE_STREAM_PAUSED_INBOUND_MESSAGES } from "./limits.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class StreamTransport implements ConnectionTransport {
  connection: Connection | null = null;
  /** Sealed records not yet handed to the relay, oldest first. */
  private readonly queue: SealedRecord[] = [];
  private queuedBytes = 0;
  /** Ciphertext handed to the relay whose send has not resolved yet. */
  private inFlightBytes = 0;
  private congested = false;
  /** Messages received while the server asked us to stop reading. */
  private held: { text: string; trace: TraceContext | undefined }[] | null = null;
  private closed = false;

  constructor(
    readonly stream: RelayStream,
    private readonly sender: NoiseStreamSender,
    private readonly receiver: NoiseStreamReceiver,
  ) {}

  /** The frame may be lent: it is framed and sealed here, before returning. */
  send(frame: Frame | KeptFrame): SendResult {
    if (this.closed) return "sent";
    const json = typeof frame === "string" ? encoder.encode(frame) : frame.buf.subarray(frame.start, frame.end);
    let records: SealedRecord[];
    try {
      records = this.sender.send(json);
    } catch (e) {
      this.fail(`sealing an outgoing message failed: ${(e as Error).message}`);
      return "sent";
    }
    for (const r of records) {
      this.queue.push(r);
      this.queuedBytes += r.byteLength;
    }
    this.pump();
    if (this.queuedBytes > REMOTE_STREAM_CONGESTED_BYTES) this.congested = true;
    return this.congested ? "congested" : "sent";
  }

  abort(): void {
    this.fail("the server dropped the connection");
  }

  pauseReceiving(): void {
    this.held ??= [];
  }

  resumeReceiving(): void {
    const held = this.held ?? [];
    this.held = null;
    for (const { text, trace } of held) this.connection?.receive(text, trace);
  }

  /** One `data` frame from the harness. */
  onData(data: RelayDataIn): void {
    if (this.closed) return;
    let messages: Uint8Array[];
    try {
      messages = this.receiver.receive(data.seq, data.payload);
    } catch (e) {
      const why = e instanceof NoiseError ? e.message : String(e);
      return this.fail(`failed to process Noise relay payload: ${why}`);
    }
    // The frame's trace context goes with the messages it completes.
    const trace = traceContextOf(data);
    for (const bytes of messages) {
      if (this.closed) return;
      if (bytes.length > MAX_INCOMING_MESSAGE_BYTES) {
        return this.fail(`incoming message of ${bytes.length} bytes exceeds ${MAX_INCOMING_MESSAGE_BYTES}`);
      }
      const text = decoder.decode(bytes);
      if (this.held === null) {
        this.connection?.receive(text, trace);
      } else if (this.held.length < REMOTE_STREAM_PAUSED_INBOUND_MESSAGES) {
        this.held.push({ text, trace });
      } else {
        return this.fail(`more than ${REMOTE_STREAM_PAUSED_INBOUND_MESSAGES} messages arrived while the stream was not read`);
      }
    }
  }

  /** The stream is gone (either side, or its socket): the session detaches. */
  onClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue.length = 0;
    this.held = null;
    void this.connection?.closedByTransport("stream closed");
  }

  private fail(why: string): void {
    if (this.closed) return;
    this.stream.reset(why); // Calls onClose through the handler.
    this.onClose();
  }

  /** Hands queued records to the relay while less than the in-flight bound waits there. */
  private pump(): void {
    while (!this.closed && this.queue.length > 0 && this.inFlightBytes < REMOTE_STREAM_IN_FLIGHT_BYTES) {
      const record = this.queue.shift()!;
      const bytes = record.byteLength;
      this.queuedBytes -= bytes;
      this.inFlightBytes += bytes;
      this.stream.sendRecord(record).then(
        () => this.sent(bytes),
        // The stream or socket is gone (then this is a no-op), or the frame was refused.
        (e: Error) => this.fail(`sending a record failed: ${e.message}`),
      );
    }
  }

  private sent(bytes: number): void {
    this.inFlightBytes -= bytes;
    this.pump();
    if (this.congested && !this.closed && this.queuedBytes <= REMOTE_STREAM_CONGESTED_BYTES / 2) {
      this.congested = false;
      this.connection?.drained();
    }
  }
}
