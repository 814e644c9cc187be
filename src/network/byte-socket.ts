/**
 * A Bun TCP socket as the managed HTTP proxy uses it: first pulled (a
 * request head, a body, read with `read`/`unshift`) and written with
 * back-pressure (`write` resolves once the socket took the bytes), then,
 * once a tunnel is open, piped straight into another socket from its `data`
 * callback, with no promise per chunk (the relay functions the SOCKS5
 * listener and the sandbox bridge use).
 *
 * Bun's own sockets rather than node:net: on the proxy's hot paths node:net's
 * stream machinery cost more than the copying (a CONNECT tunnel carried 0.6×
 * the reference's MiB/s, and a small request through the proxy took 2.5×
 * its time; see bench/proxy.ts).
 *
 * Bun hands every `data` callback a buffer of its own, so chunks are kept
 * without a copy.
 */
import type { Socket, SocketHandler, TCPSocketListener } from "bun";
import { ChunkQueue, type Endpoint } from "../http/socket-reader.ts";
import { type RelaySide, relayFlush, relayForward } from "../sandbox/socket-relay.ts";

/**
 * A lingering close (src/network/http-proxy.ts ends every client with it):
 * after the proxy's last answer it reads on, dropping what the client still
 * sends, for at most this long and this much, before the socket closes.
 * Closing with unread input makes the kernel send a reset, which can discard
 * the answer before the client has read it (a refused request's 400 with
 * its body still on the way). 2 s covers any client's round trip on this
 * machine; 16 MiB is what a client may have in flight at once.
 */
export const LINGER_MS = 2_000;
export const LINGER_BYTES = 16 * 1024 * 1024;

export class ByteSocket implements Endpoint {
  /** The socket (null once closed) and the bytes it has not taken yet. */
  private readonly side: RelaySide & { socket: Socket<ByteSocket> | null } = { socket: null, pending: [] };
  /** `address:port` of the far end, once open. */
  remote = "";
  private readonly received = new ChunkQueue((on) => (on ? this.side.socket?.resume() : this.side.socket?.pause()));
  /** `write`rs waiting for `pending` to empty. */
  private readonly drained: (() => void)[] = [];
  /** Takes incoming bytes while piped (all of them, or a body's worth); null: they queue for `read`. */
  private sink: ((data: Buffer) => void) | null = null;
  /** A `pipeBytes` that has not got its bytes yet: failed if this side ends first. */
  private shortOf: ((e: Error) => void) | null = null;
  /** The socket piped into this one: paused while `pending` is not empty. */
  private source: ByteSocket | null = null;
  /** How the socket closes once everything queued is sent: `end`, `linger`, or null while open. */
  private closing: "end" | "linger" | null = null;
  private closeStarted = false;
  private readonly closedWaiters: (() => void)[] = [];
  /** This side's port (a pipe into a local server is named by it). */
  localPort = 0;

  get destroyed(): boolean {
    return this.side.socket === null && this.received.finished;
  }

  attach(socket: Socket<ByteSocket>): void {
    this.side.socket = socket;
    socket.data = this;
    this.remote = `${socket.remoteAddress}:${(socket as unknown as { remotePort?: number }).remotePort ?? 0}`;
    this.localPort = (socket as unknown as { localPort?: number }).localPort ?? 0;
  }

  /** Calls `fn` once the socket is closed (at once if it is). */
  onceClosed(fn: () => void): void {
    if (this.destroyed) fn();
    else this.closedWaiters.push(fn);
  }

  read(): Promise<Buffer | null> {
    return this.received.read();
  }

  unshift(bytes: Buffer): void {
    this.received.unshift(bytes);
  }

  /** Resolves once the socket has taken `bytes` (or rejects: it is gone). */
  write(bytes: Uint8Array | string): Promise<void> {
    if (!this.side.socket) return Promise.reject(new Error("socket closed"));
    relayForward(this.side, NO_SOURCE, typeof bytes === "string" ? Buffer.from(bytes, "latin1") : bytes);
    if (this.side.pending.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.drained.push(() => (this.side.socket ? resolve() : reject(new Error("socket closed"))));
    });
  }

  /**
   * From now on every byte that arrives goes to `to` (what was read but not
   * taken first), pausing this socket while `to` is behind. Resolves once
   * this side has ended and `to` was ended after the last byte.
   */
  pipeInto(to: ByteSocket): Promise<void> {
    to.source = this;
    for (const chunk of this.received.takeAll()) relayForward(to.side, this.side, chunk);
    // A target that is gone has nowhere to put them: the tunnel is coming down.
    this.sink = (data) => (to.side.socket ? relayForward(to.side, this.side, data) : undefined);
    if (to.side.pending.length === 0) this.side.socket?.resume();
    return new Promise<void>((resolve) => {
      const done = () => {
        to.end();
        resolve();
      };
      if (this.received.finished) done();
      else this.closedWaiters.push(done);
    });
  }

  /**
   * The next `bytes` bytes (a body of known length) go to `to` as they
   * arrive, as `pipeInto` sends them; what follows them stays to be read.
   * Resolves once they are all handed to `to` (queued there if it is behind:
   * later writes to `to` go after them); rejects if this side ends first.
   */
  pipeBytes(to: ByteSocket, bytes: number): Promise<void> {
    to.source = this;
    let left = bytes;
    /** Forwards what of `data` the body still needs, puts back the rest; true once the body is complete. */
    const take = (data: Buffer): boolean => {
      if (data.byteLength > left) this.received.unshift(data.subarray(left));
      const part = data.byteLength > left ? data.subarray(0, left) : data;
      left -= part.byteLength;
      relayForward(to.side, this.side, part);
      return left === 0;
    };
    if (!to.side.socket) return Promise.reject(new Error(RECEIVER_GONE));
    for (let c = left > 0 ? this.received.shift() : undefined; c; c = left > 0 ? this.received.shift() : undefined) take(c);
    if (left === 0) return Promise.resolve();
    if (this.received.finished) return Promise.reject(new Error("body ended early"));
    return new Promise<void>((resolve, reject) => {
      const finish = (error: Error | null) => {
        this.sink = null;
        this.shortOf = null;
        if (error) reject(error);
        else resolve();
      };
      this.shortOf = finish;
      // A receiver that closed takes nothing more: fail, so the exchange ends instead of waiting on a paused socket.
      this.sink = (data) => (!to.side.socket ? finish(new Error(RECEIVER_GONE)) : take(data) ? finish(null) : undefined);
    });
  }

  /** Ends the socket (FIN, then closed) once everything queued is sent. */
  end(): void {
    this.closeWhenSent("end");
  }

  /**
   * Ends the socket once everything queued is sent, but reads on (dropping
   * it) until the peer closes too, at most LINGER_MS and LINGER_BYTES, so
   * unread input does not turn the close into a reset (see LINGER_MS).
   */
  linger(): void {
    if (!this.side.socket || this.closing) return;
    this.received.takeAll();
    let dropped = 0;
    this.sink = (data) => {
      dropped += data.byteLength;
      if (dropped > LINGER_BYTES) this.destroy();
    };
    this.side.socket.resume();
    this.closeWhenSent("linger");
  }

  private closeWhenSent(how: "end" | "linger"): void {
    this.closing ??= how;
    if (this.side.pending.length === 0) this.close();
  }

  private close(): void {
    const socket = this.side.socket;
    if (!socket || this.closeStarted) return;
    this.closeStarted = true;
    if (this.closing === "end") return void socket.end();
    socket.shutdown();
    const timer = setTimeout(() => this.destroy(), LINGER_MS);
    this.closedWaiters.push(() => clearTimeout(timer));
  }

  destroy(): void {
    this.side.socket?.terminate();
    this.onClosed(null);
  }

  private onData(data: Buffer): void {
    if (this.sink) this.sink(data);
    else this.received.push(data);
  }

  private onDrain(): void {
    relayFlush(this.side, this.source?.side ?? NO_SOURCE);
    if (this.side.pending.length > 0) return;
    for (const fn of this.drained.splice(0)) fn();
    if (this.closing) this.close();
  }

  private onClosed(error: Error | null): void {
    this.side.socket = null;
    this.side.pending.length = 0;
    this.received.finish(error);
    this.shortOf?.(new Error("body ended early"));
    this.shortOf = null;
    for (const fn of this.drained.splice(0)) fn();
    for (const fn of this.closedWaiters.splice(0)) fn();
    // A socket piped into this one must not stay paused on bytes that will never be sent.
    this.source?.side.socket?.resume();
  }

  /** The one handler every ByteSocket's Bun socket uses. */
  static readonly handler: SocketHandler<ByteSocket> = {
    data: (socket, data) => socket.data.onData(data),
    drain: (socket) => socket.data.onDrain(),
    close: (socket) => socket.data.onClosed(null),
    error: (socket, error) => socket.data.onClosed(error),
  };
}

const RECEIVER_GONE = "the receiving socket closed";

/** The source of plain writes: nothing to pause or resume. */
const NO_SOURCE: RelaySide = { socket: null, pending: [] };

/** A listener on 127.0.0.1 (an ephemeral port) handing each accepted connection to `accept`. */
export function listenByteSockets(accept: (socket: ByteSocket) => void): TCPSocketListener<ByteSocket> {
  return Bun.listen<ByteSocket>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      ...ByteSocket.handler,
      open(socket) {
        const bs = new ByteSocket();
        bs.attach(socket);
        accept(bs);
      },
    },
  });
}

/** Connects to `address:port`; null when it cannot. */
export async function connectByteSocket(address: string, port: number): Promise<ByteSocket | null> {
  const bs = new ByteSocket();
  try {
    const socket = await Bun.connect<ByteSocket>({ hostname: address, port, data: bs, socket: ByteSocket.handler });
    bs.attach(socket);
    return bs;
  } catch {
    return null;
  }
}
