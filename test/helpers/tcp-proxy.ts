/**
 * A TCP proxy on 127.0.0.1 in front of an executor, so tests can cut live
 * connections mid-stream the way a network failure would: both sides are
 * terminated at once (no close frames), whatever was in flight is lost.
 * Forwarding honours back-pressure (a side that cannot take more pauses the
 * other), so the executor sees the same flow control as without the proxy.
 */
import type { Socket } from "bun";
import { relayFlush, relayForward } from "../../src/sandbox/socket-relay.ts";

type Side = { toClient: boolean; socket: Socket<Pair> | null; pending: Uint8Array[] };
type Pair = { client: Side; upstream: Side; dead: boolean };

export type TcpProxy = {
  /** `ws://127.0.0.1:<port>` of the proxy. */
  url: string;
  /** Connections currently forwarded. */
  readonly live: number;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Terminates every live connection on both sides; returns how many were cut. */
  cut(): number;
  /** While refusing, new connections are accepted and dropped at once. */
  refuse(on: boolean): void;
  /**
   * While stalled, bytes for clients pile up in the proxy instead of being
   * delivered (the executor sees no back-pressure); a cut then loses them, as
   * a network failure loses what is in flight.
   */
  stall(on: boolean): void;
  close(): void;
  [Symbol.dispose](): void;
};

export function startTcpProxy(upstreamUrl: string): TcpProxy {
  const upstream = new URL(upstreamUrl.replace(/^ws:/, "http:"));
  const pairs = new Set<Pair>();
  let accepted = 0;
  let refusing = false;
  let stalled = false;

  /** Forwards with execbox's own relay logic (back-pressure both ways), except while stalled. */
  const forward = (pair: Pair, to: Side, from: Side, received: Uint8Array) => {
    if (pair.dead) return;
    if (stalled && to.toClient) {
      // Copied: whatever is queued must not alias a buffer the runtime may reuse.
      to.pending.push(new Uint8Array(received));
      return;
    }
    relayForward(to, from, received);
  };
  const flush = (to: Side, from: Side) => {
    if (stalled && to.toClient) return;
    relayFlush(to, from);
  };
  const kill = (pair: Pair) => {
    if (pair.dead) return;
    pair.dead = true;
    pairs.delete(pair);
    pair.client.socket?.terminate();
    pair.upstream.socket?.terminate();
  };

  const listener = Bun.listen<Pair>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(socket) {
        accepted++;
        const pair: Pair = {
          client: { toClient: true, socket, pending: [] },
          upstream: { toClient: false, socket: null, pending: [] },
          dead: false,
        };
        socket.data = pair;
        if (refusing) return kill(pair);
        pairs.add(pair);
        Bun.connect<Pair>({
          hostname: upstream.hostname,
          port: Number(upstream.port),
          data: pair,
          socket: {
            open(up) {
              if (pair.dead) return up.terminate();
              pair.upstream.socket = up;
              flush(pair.upstream, pair.client);
            },
            data: (_up, data) => forward(pair, pair.client, pair.upstream, data),
            drain: () => flush(pair.upstream, pair.client),
            close: () => kill(pair),
            error: () => kill(pair),
          },
        }).catch(() => kill(pair));
      },
      data: (socket, data) => forward(socket.data, socket.data.upstream, socket.data.client, data),
      drain: (socket) => flush(socket.data.client, socket.data.upstream),
      close: (socket) => kill(socket.data),
      error: (socket) => kill(socket.data),
    },
  });

  const close = () => {
    for (const pair of [...pairs]) kill(pair);
    listener.stop(true);
  };
  return {
    url: `ws://127.0.0.1:${listener.port}`,
    get live() {
      return pairs.size;
    },
    get accepted() {
      return accepted;
    },
    cut() {
      const n = pairs.size;
      for (const pair of [...pairs]) kill(pair);
      return n;
    },
    refuse(on) {
      refusing = on;
    },
    stall(on) {
      stalled = on;
      if (!on) for (const pair of pairs) flush(pair.client, pair.upstream);
    },
    close,
    [Symbol.dispose]: close,
  };
}
