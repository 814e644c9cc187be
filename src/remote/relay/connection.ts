/**
 * One live rendezvous socket with its stream table: decodes and routes what
 * arrives, and sends frames with back-pressure. Above
 * RELAY_SEND_HIGH_WATER_BYTES queued on the socket, data frames wait (in
 * order) for it to drain; a stream with more than
 * RELAY_MAX_STREAM_WAITING_BYTES waiting is reset alone. Handshake replies
 * and resets go ahead of waiting data, up to RELAY_CONTROL_HIGH_WATER_BYTES.
 */
import { releaseBuffer } from "../../protocol/frame-memory.ts";
import type { RelayFrame } from "./frame.ts";
import { FrameWriter, isRecordFrame, type OutgoingFrame } from "./frame-writer.ts";
import { RELAY_CONTROL_HIGH_WATER_BYTES, RELAY_MAX_FRAME_BYTES, RELAY_MAX_STREAM_WAITING_BYTES, RELAY_SEND_HIGH_WATER_BYTES } from "./limits.ts";
import { type RelayStream, type RelayStreamHandler, type StreamSink, StreamTable } from "./streams.ts";
import { classifyInbound, TEXT_MESSAGE_DROP } from "./validate.ts";
import { RendezvousSocket, type SocketOptions, WS_CLIENT_HEADROOM } from "./ws-client.ts";

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
  /** Encoded again when its turn comes: the encoder's buffer is reused. */
  frame: OutgoingFrame;
  byteLength: number;
  stream: RelayStream;
  resolve(): void;
  reject(e: Error): void;
}

/** How much longer than a record piece its own buffer may be (the cipher's output has one spare byte). */
const OWN_BUFFER_SLACK_BYTES = 16;

/** `bytes`, unless they exceed the frame cap. */
function checkSize(bytes: Uint8Array): Uint8Array {
  if (bytes.byteLength > RELAY_MAX_FRAME_BYTES) throw new RelayFrameTooLargeError(bytes.byteLength);
  return bytes;
}

/**
 * A record's buffers are the connection's once sent: freed at once rather
 * than left to the collector. The cipher hands out each piece in a buffer of
 * its own one byte longer than the piece, which `releaseBuffer` (whole
 * buffers only) would skip; a view at offset 0 of a buffer at most a tag
 * longer is such a buffer, never a slice of a shared pool.
 */
function released(frame: OutgoingFrame): void {
  if (!isRecordFrame(frame)) return;
  for (const part of frame.parts) {
    const spare = part.buffer.byteLength - part.byteLength;
    releaseBuffer(part.byteOffset === 0 && spare > 0 && spare <= OWN_BUFFER_SLACK_BYTES ? new Uint8Array(part.buffer) : part);
  }
}

export class RelayConnection implements StreamSink {
  readonly streams: StreamTable;
  private socket!: RendezvousSocket;
  private readonly waiting: Waiting[] = [];
  /** Every frame is encoded here, with room for the WebSocket header, and masked in place. */
  private readonly writer = new FrameWriter(WS_CLIENT_HEADROOM);
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

  /** A handshake reply or reset: queued at once, past waiting data, unless the socket is backed up beyond RELAY_CONTROL_HIGH_WATER_BYTES. */
  trySend(frame: RelayFrame): boolean {
    const bytes = this.encode(frame);
    if (this.socket.closed || this.socket.queuedBytes >= RELAY_CONTROL_HIGH_WATER_BYTES) return false;
    this.socket.sendBinaryInPlace(bytes);
    return true;
  }

  /**
   * Sends `frame` (a record frame's buffers are handed over: they are freed
   * once written), at once while the socket is under its high-water mark,
   * otherwise once it drains, in order.
   */
  send(frame: OutgoingFrame, stream: RelayStream): Promise<void> {
    let bytes: Uint8Array;
    try {
      bytes = this.encode(frame);
    } catch (e) {
      return Promise.reject(e);
    }
    if (this.socket.closed) return Promise.reject(new RelayClosedError("the relay connection is closed"));
    if (this.waiting.length === 0 && this.socket.queuedBytes < RELAY_SEND_HIGH_WATER_BYTES) {
      this.socket.sendBinaryInPlace(bytes);
      released(frame);
      return Promise.resolve();
    }
    const byteLength = bytes.byteLength;
    if (stream.waitingBytes + byteLength > RELAY_MAX_STREAM_WAITING_BYTES) {
      stream.reset(`more than ${RELAY_MAX_STREAM_WAITING_BYTES} bytes waiting for the rendezvous socket to drain`);
      return Promise.reject(new RelayClosedError(`relay stream ${stream.id} was reset: too many bytes waiting to be sent`));
    }
    stream.waitingBytes += byteLength;
    return new Promise((resolve, reject) => this.waiting.push({ frame, byteLength, stream, resolve, reject }));
  }

  /** The encoded frame, borrowed from the writer until the next encode; refuses what exceeds the frame cap. */
  private encode(frame: OutgoingFrame): Uint8Array {
    return checkSize(this.writer.encode(frame));
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
      w.stream.waitingBytes -= w.byteLength;
      this.socket.sendBinaryInPlace(this.writer.encode(w.frame));
      released(w.frame);
      w.resolve();
    }
  }

  private gone(why: string): void {
    for (const w of this.waiting.splice(0)) w.reject(new RelayClosedError(`the relay connection closed: ${why}`));
    this.streams.closeAll(`relay connection closed: ${why}`);
    this.settleClosed(why);
  }
}
