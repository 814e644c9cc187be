/**
 * A TCP service on 127.0.0.1:0 for tunnel tests: on each connection it sends
 * `send` random bytes (hashing them), hashes what it receives, and can read
 * slowly. Counters let a test bound what is in flight between it and the
 * other end. Stopping it closes every connection.
 */
import { createHash, type Hash } from "node:crypto";
import type { Socket } from "bun";
import { writeQueued } from "../../src/tunnel/write-queue.ts";

export type TargetConn = {
  socket: Socket<TargetConn>;
  sent: number;
  received: number;
  sentHash: Hash;
  receivedHash: Hash;
  /** The peer sent EOF / the connection closed. */
  eof: boolean;
  closed: boolean;
  /** Echo bytes the socket has not taken yet (reading pauses meanwhile). */
  echoing: Uint8Array[];
};

export type TargetOptions = {
  /** Random bytes to send on each connection, then EOF (`endAfterSend`) or nothing. */
  send?: number;
  endAfterSend?: boolean;
  /** Pause reading for `pauseMs` after every `everyBytes` received: a slow reader. */
  slow?: { everyBytes: number; pauseMs: number };
  /** Called with each connection once it is accepted, and on every read. */
  onData?: (conn: TargetConn, data: Uint8Array) => void;
  /** Echo what arrives (and answer EOF with EOF). */
  echo?: boolean;
  /** Read nothing until the test calls `conn.socket.resume()`. */
  startPaused?: boolean;
};

export const SEND_BLOCK = 64 * 1024;

export function startTarget(options: TargetOptions = {}) {
  const conns: TargetConn[] = [];
  const pump = (conn: TargetConn) => {
    const total = options.send ?? 0;
    while (conn.sent < total && !conn.closed) {
      const block = crypto.getRandomValues(new Uint8Array(Math.min(SEND_BLOCK, total - conn.sent)));
      const n = conn.socket.write(block);
      if (n <= 0) return;
      conn.sentHash.update(block.subarray(0, n));
      conn.sent += n;
      if (n < block.byteLength) return;
    }
    // Half-close: EOF after the last byte, while what the peer sends is still read.
    if (conn.sent >= total && options.endAfterSend && !conn.closed) conn.socket.shutdown();
  };
  let sinceSlow = 0;
  const listener = Bun.listen<TargetConn>({
    hostname: "127.0.0.1",
    port: 0,
    allowHalfOpen: true,
    socket: {
      open(socket) {
        const conn: TargetConn = { socket, sent: 0, received: 0, sentHash: createHash("sha256"), receivedHash: createHash("sha256"), eof: false, closed: false, echoing: [] };
        socket.data = conn;
        conns.push(conn);
        if (options.startPaused) socket.pause();
        pump(conn);
      },
      data(socket, data) {
        const conn = socket.data;
        conn.received += data.byteLength;
        conn.receivedHash.update(data);
        if (options.echo) {
          conn.echoing.push(new Uint8Array(data));
          if (!writeQueued(socket, conn.echoing)) socket.pause();
        }
        options.onData?.(conn, data);
        sinceSlow += data.byteLength;
        if (options.slow && sinceSlow >= options.slow.everyBytes) {
          sinceSlow = 0;
          socket.pause();
          setTimeout(() => socket.resume(), options.slow.pauseMs);
        }
      },
      drain(socket) {
        // The pump resumes where the socket stopped taking bytes (a partial block is re-drawn, not re-sent: only what was taken is hashed).
        pump(socket.data);
        const conn = socket.data;
        if (conn.echoing.length === 0 || !writeQueued(socket, conn.echoing)) return;
        if (conn.eof) socket.shutdown();
        else socket.resume();
      },
      end(socket) {
        socket.data.eof = true;
        if (options.echo && socket.data.echoing.length === 0) socket.shutdown();
      },
      close(socket) {
        socket.data.eof = true;
        socket.data.closed = true;
      },
    },
  });
  return {
    port: listener.port,
    conns,
    stop: () => listener.stop(true),
  };
}
