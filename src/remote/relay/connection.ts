/**
 * One live rendezvous socket with its stream table: decodes and routes what
 * arrives, and sends frames with back-pressure. Above
 * RELAY_SEND_HIGH_WATER_BYTES queued on the socket, data frames wait (in
 * order) for it to drain; a stream with more than
 * RELAY_MAX_STREAM_WAITING_BYTES waiting is reset alone.
 */
import { encodeRelayFrame, type RelayFrame } from "./frame.ts";
import { RELAY_MAX_FRAME_BYTES, RELAY_MAX_STREAM_WAITING_BYTES, RELAY_SEND_HIGH_WATER_BYTES } from "./limits.ts";
import { type RelayStream, type RelayStreamHandler, type StreamSink, StreamTable } from "./streams.ts";
import { classifyInbound, TEXT_MESSAGE_DROP } from "./validate.ts";
import { RendezvousSocket, type SocketOptions } from "./ws-client.ts";

/** A frame that encodes to more than RELAY_MAX_FRAME_BYTES: never sent (the rendezvous would drop the socket). */
export class RelayFrameTooLargeError extends Error {
  override name = "RelayFrameTooLargeError";
  constructor(readonly bytes: number) {
    super(`relay frame of ${bytes} bytes exceeds the ${RELAY_MAX_FRAME_BYTES}-byte limit`);
  }
}

/** The frame could not be sent because its stream or socket is gone. */
export class RelayClosedError extends Error {
  override name = "RelayClosedError";
}

interface Waiting {
  bytes: Uint8Array;
  stream: RelayStream;
  resolve(): void;
  reject(e: Error): void;
}

/** Encodes `frame`, refusing what exceeds the frame cap. */
export function encodeForSend(frame: RelayFrame): Uint8Array {
  const bytes = encodeRelayFrame(frame);
  if (bytes.byteLength > RELAY_MAX_FRAME_BYTES) throw new RelayFrameTooLargeError(bytes.byteLength);
  return bytes;
}

export class RelayConnection implements StreamSink {
  readonly streams: StreamTable;
  private socket!: RendezvousSocket;
  private readonly waiting: Waiting[] = [];
  /** Resolves with why, once the socket is gone. */
  readonly closed: Promise<string>;
  private settleClosed!: (why: string) => void;

  private constructor(
    handler: RelayStreamHandler,
    readonly log: (line: string) => void,
  ) {
    this.streams = new StreamTable(handler, this);
    this.closed = new Promise((resolve) => (this.settleClosed = resolve));
  }

  /** Dials `url`; rejects as RendezvousSocket.dial does. */
  static async open(url: string, handler: RelayStreamHandler, opts: SocketOptions, log: (line: string) => void): Promise<RelayConnection> {
    const conn = new RelayConnection(handler, log);
    conn.socket = await RendezvousSocket.dial(
      url,
      {
        onMessage: (payload, binary) => conn.streams.handle(binary ? classifyInbound(payload) : TEXT_MESSAGE_DROP),
        onDrain: () => conn.flushWaiting(),
        onClose: (why) => conn.gone(why),
      },
      opts,
    );
    conn.socket.start();
    return conn;
  }

  /** Bytes queued on the socket. */
  get queuedBytes(): number {
    return this.socket.queuedBytes;
  }

  trySend(frame: RelayFrame): boolean {
    const bytes = encodeForSend(frame);
    if (this.socket.closed || this.waiting.length > 0 || this.socket.queuedBytes >= RELAY_SEND_HIGH_WATER_BYTES) return false;
    this.socket.sendBinary(bytes);
    return true;
  }

  send(frame: RelayFrame, stream: RelayStream): Promise<void> {
    let bytes: Uint8Array;
    try {
      bytes = encodeForSend(frame);
    } catch (e) {
      return Promise.reject(e);
    }
    if (this.socket.closed) return Promise.reject(new RelayClosedError("the relay connection is closed"));
    if (this.waiting.length === 0 && this.socket.queuedBytes < RELAY_SEND_HIGH_WATER_BYTES) {
      this.socket.sendBinary(bytes);
      return Promise.resolve();
    }
    if (stream.waitingBytes + bytes.byteLength > RELAY_MAX_STREAM_WAITING_BYTES) {
      stream.reset(`more than ${RELAY_MAX_STREAM_WAITING_BYTES} bytes waiting for the rendezvous socket to drain`);
      return Promise.reject(new RelayClosedError(`relay stream ${stream.id} was reset: too many bytes waiting to be sent`));
    }
    stream.waitingBytes += bytes.byteLength;
    return new Promise((resolve, reject) => this.waiting.push({ bytes, stream, resolve, reject }));
  }

  drop(why: string): void {
    this.socket.close(why);
  }

  forget(stream: RelayStream): void {
    if (stream.waitingBytes === 0) return;
    const keep = this.waiting.filter((w) => w.stream !== stream);
    for (const w of this.waiting) if (w.stream === stream) w.reject(new RelayClosedError(`relay stream ${stream.id} is closed`));
    this.waiting.splice(0, this.waiting.length, ...keep);
    stream.waitingBytes = 0;
  }

  /** Writes waiting frames, in order, until the socket is at its high-water mark again. */
  private flushWaiting(): void {
    while (this.waiting.length > 0 && this.socket.queuedBytes < RELAY_SEND_HIGH_WATER_BYTES) {
      const w = this.waiting.shift()!;
      w.stream.waitingBytes -= w.bytes.byteLength;
      this.socket.sendBinary(w.bytes);
      w.resolve();
    }
  }

  private gone(why: string): void {
    for (const w of this.waiting.splice(0)) w.reject(new RelayClosedError(`the relay connection closed: ${why}`));
    this.streams.closeAll(`relay connection closed: ${why}`);
    this.settleClosed(why);
  }
}
