/**
 * A byte relay: every connection accepted on one address is joined to a new
 * connection to another, both ways, with back-pressure (a side that cannot
 * take more pauses the other). Used twice by the managed network: on the host
 * (Unix socket → 127.0.0.1:port) and inside the sandbox (127.0.0.1:port →
 * Unix socket), so a sandbox with no network reaches exactly the allowed ports.
 */
import type { Socket, SocketHandler } from "bun";
import { releaseBuffer } from "../protocol/frame-memory.ts";

export type Address = { unix: string } | { hostname: string; port: number };

/** One end of a relayed connection: its socket (once open) and the bytes it has not taken yet. */
export type RelaySide = { socket: Pick<Socket<unknown>, "write" | "pause" | "resume"> | null; pending: Uint8Array[] };
type Side = RelaySide & { socket: Socket<Pair> | null };
type Pair = { a: Side; b: Side; dead: boolean };

/**
 * Writes `data` to `to`; what it cannot take waits and `from` pauses until
 * `to` drains. `data` becomes the relay's: kept without a copy (Bun hands
 * every `data` callback a buffer of its own), so the caller must not reuse it.
 */
export function relayForward(to: RelaySide, from: RelaySide, data: Uint8Array): void {
  if (!to.socket || to.pending.length > 0) {
    to.pending.push(data);
    from.socket?.pause();
    return;
  }
  const n = to.socket.write(data);
  if (n < data.byteLength) {
    to.pending.push(new Uint8Array(data.subarray(Math.max(0, n))));
    from.socket?.pause();
  }
  // Written (or its rest copied): a read's own buffer is freed now, for the allocator to hand the next read, rather than
  // left to a collection while every read touches fresh pages.
  releaseBuffer(data);
}

/** `to` can take more: writes what waits, then lets `from` flow again. */
export function relayFlush(to: RelaySide, from: RelaySide): void {
  while (to.socket && to.pending.length > 0) {
    const data = to.pending[0]!;
    const n = to.socket.write(data);
    if (n < data.byteLength) {
      to.pending[0] = data.subarray(Math.max(0, n));
      return;
    }
    to.pending.shift();
  }
  from.socket?.resume();
}

export type Relay = { stop(): void };

export function startRelay(listen: Address, target: Address): Relay {
  const pairs = new Set<Pair>();
  const kill = (pair: Pair) => {
    if (pair.dead) return;
    pair.dead = true;
    pairs.delete(pair);
    pair.a.socket?.end();
    pair.b.socket?.end();
  };
  const forward = (pair: Pair, to: Side, from: Side, data: Uint8Array) => {
    if (!pair.dead) relayForward(to, from, data);
  };
  const flush = relayFlush;
  const targetHandler: SocketHandler<Pair> = {
    open(socket) {
      const pair = socket.data;
      if (pair.dead) return void socket.end();
      pair.b.socket = socket;
      flush(pair.b, pair.a);
    },
    data: (socket, data) => forward(socket.data, socket.data.a, socket.data.b, data),
    drain: (socket) => flush(socket.data.b, socket.data.a),
    close: (socket) => kill(socket.data),
    error: (socket) => kill(socket.data),
  };
  const listenHandler: SocketHandler<Pair> = {
    open(socket) {
      const pair: Pair = { a: { socket, pending: [] }, b: { socket: null, pending: [] }, dead: false };
      socket.data = pair;
      pairs.add(pair);
      const connecting = "unix" in target ? Bun.connect<Pair>({ unix: target.unix, data: pair, socket: targetHandler }) : Bun.connect<Pair>({ ...target, data: pair, socket: targetHandler });
      connecting.catch(() => kill(pair));
    },
    data: (socket, data) => forward(socket.data, socket.data.b, socket.data.a, data),
    drain: (socket) => flush(socket.data.a, socket.data.b),
    close: (socket) => kill(socket.data),
    error: (socket) => kill(socket.data),
  };
  const listener = "unix" in listen ? Bun.listen<Pair>({ unix: listen.unix, socket: listenHandler }) : Bun.listen<Pair>({ ...listen, socket: listenHandler });
  return {
    stop() {
      listener.stop(true);
      for (const pair of [...pairs]) kill(pair);
    },
  };
}
