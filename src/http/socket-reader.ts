/**
 * Pull-style reading of a socket: chunks in arrival order, the end, or the
 * socket's error, with the socket paused while the reader is behind (so a
 * slow client is felt upstream as TCP backpressure, not memory). The
 * interfaces the HTTP code reads and writes through (ByteReader, ByteWriter,
 * Endpoint), and their node-socket side (SocketReader, NodeEndpoint); the
 * managed proxy's Bun-socket side is src/network/byte-socket.ts.
 */
import type { Duplex } from "node:stream";

/** Bytes buffered from the socket before it is paused until the reader catches up. */
export const SOCKET_BUFFER_BYTES = 1024 * 1024;

/** Pull-style bytes: what readHead, readLine and readSized need. */
export interface ByteReader {
  /** The next chunk, or null at the end of the stream; throws the stream's error. */
  read(): Promise<Buffer | null>;
  /** Puts bytes read too far back in front. */
  unshift(bytes: Buffer): void;
}

/** Writes that resolve once the receiver has taken the bytes. */
export interface ByteWriter {
  write(bytes: Uint8Array | string): Promise<void>;
}

/** One side of a proxied exchange: pulled, written with back-pressure, ended once what was written is sent. */
export interface Endpoint extends ByteReader, ByteWriter {
  readonly destroyed: boolean;
  end(): void;
}

/**
 * Chunks received and not yet read, in order, with the end or error that
 * followed them; `flow(false)` is asked once more than SOCKET_BUFFER_BYTES
 * wait, `flow(true)` once the reader is back under it.
 */
export class ChunkQueue implements ByteReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private ended = false;
  private failure: Error | null = null;
  private wake: (() => void) | null = null;

  constructor(private readonly flow: (on: boolean) => void) {}

  get finished(): boolean {
    return this.ended;
  }

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.buffered += chunk.byteLength;
    if (this.buffered >= SOCKET_BUFFER_BYTES) this.flow(false);
    this.notify();
  }

  /** The next chunk, or null at the end of the stream; throws the stream's error. */
  async read(): Promise<Buffer | null> {
    for (;;) {
      const chunk = this.shift();
      if (chunk) return chunk;
      if (this.failure) throw this.failure;
      if (this.ended) return null;
      await new Promise<void>((r) => (this.wake = r));
    }
  }

  /** Puts bytes read too far back in front. */
  unshift(bytes: Buffer): void {
    if (bytes.byteLength === 0) return;
    this.chunks.unshift(bytes);
    this.buffered += bytes.byteLength;
  }

  /** The next chunk if one is here (no waiting). */
  shift(): Buffer | undefined {
    const chunk = this.chunks.shift();
    if (chunk) {
      this.buffered -= chunk.byteLength;
      if (this.buffered < SOCKET_BUFFER_BYTES) this.flow(true);
    }
    return chunk;
  }

  /** Everything not read yet, which the queue no longer holds. */
  takeAll(): Buffer[] {
    const all = this.chunks;
    this.chunks = [];
    this.buffered = 0;
    return all;
  }

  finish(error: Error | null): void {
    if (this.ended) return;
    this.ended = true;
    this.failure = error;
    this.notify();
  }

  private notify(): void {
    const fn = this.wake;
    this.wake = null;
    fn?.();
  }
}

/** A node socket read through a ChunkQueue. */
export class SocketReader implements ByteReader {
  private readonly queue: ChunkQueue;

  constructor(socket: Duplex) {
    this.queue = new ChunkQueue((on) => (on ? socket.resume() : socket.pause()));
    socket.on("data", (d: Buffer) => this.queue.push(d));
    socket.on("end", () => this.queue.finish(null));
    socket.on("close", () => this.queue.finish(null));
    socket.on("error", (e: Error) => this.queue.finish(e));
  }

  read(): Promise<Buffer | null> {
    return this.queue.read();
  }

  unshift(bytes: Buffer): void {
    this.queue.unshift(bytes);
  }
}

/** Longest chunk-size or trailer line accepted in a chunked body. */
export const MAX_CHUNK_LINE_BYTES = 64 * 1024;

/** Reads through the next CRLF (a chunk-size or trailer line); the CRLF is not returned. */
export async function readLine(reader: ByteReader): Promise<string> {
  let buf = Buffer.alloc(0);
  for (;;) {
    const at = buf.indexOf("\r\n");
    if (at >= 0) {
      reader.unshift(buf.subarray(at + 2));
      return buf.subarray(0, at).toString("latin1");
    }
    if (buf.byteLength > MAX_CHUNK_LINE_BYTES) throw new Error("chunk line too long");
    const c = await reader.read();
    if (!c) throw new Error("body ended early");
    buf = Buffer.concat([buf, c]);
  }
}

/** Exactly `length` bytes, as they arrive; what came past them is put back. */
export async function* readSized(reader: ByteReader, length: number): AsyncGenerator<Buffer> {
  let left = length;
  while (left > 0) {
    const c = await reader.read();
    if (!c) throw new Error("body ended early");
    if (c.byteLength > left) reader.unshift(c.subarray(left));
    const part = c.subarray(0, left);
    left -= part.byteLength;
    yield part;
  }
}

/** A node socket (node:net, node:tls) as an Endpoint. */
export class NodeEndpoint implements Endpoint {
  private readonly reader: SocketReader;

  constructor(readonly socket: Duplex & { readonly destroyed: boolean }) {
    this.reader = new SocketReader(socket);
  }

  get destroyed(): boolean {
    return this.socket.destroyed;
  }

  read(): Promise<Buffer | null> {
    return this.reader.read();
  }

  unshift(bytes: Buffer): void {
    this.reader.unshift(bytes);
  }

  /** Writes and waits until the socket has taken it (or is gone). */
  write(bytes: Uint8Array | string): Promise<void> {
    const out = this.socket;
    if (out.destroyed) return Promise.reject(new Error("socket closed"));
    if (out.write(bytes)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = (e?: Error) => {
        out.off("drain", done);
        out.off("close", closed);
        e ? reject(e) : resolve();
      };
      const closed = () => done(new Error("socket closed"));
      out.once("drain", done);
      out.once("close", closed);
    });
  }

  end(): void {
    this.socket.end();
  }
}
