/**
 * A TCP proxy on 127.0.0.1 between harnesses (connectRemote) and the fake
 * rendezvous, for the two network faults the harness side must survive that
 * the rendezvous itself cannot play:
 * - `hold`: the path toward the rendezvous stops taking bytes (the proxy stops
 *   reading harnesses), so their writes back up in the kernel and then in the
 *   harness's own queue — a relay that stopped forwarding;
 * - `dropHarnesses`: only the harness-facing connections die; the rendezvous
 *   keeps its end open and never learns the harness left (so it sends the
 *   executor no reset) — a path that failed on the harness's side.
 * Forwarding honours back-pressure both ways otherwise.
 */
import type { Socket, SocketHandler } from "bun";
import { relayFlush, relayForward } from "../../src/sandbox/socket-relay.ts";

type Side = { socket: Socket<Pair> | null; pending: Uint8Array[] };
type Pair = { harness: Side; upstream: Side; harnessGone: boolean };

export type HarnessProxy = {
  /** The harness URL to hand out from `…/connect` (same path as the upstream's). */
  url: string;
  hold(on: boolean): void;
  /** Terminates every harness-facing connection; the upstream ends stay open. Returns how many. */
  dropHarnesses(): number;
  close(): void;
};

export function startHarnessProxy(upstreamUrl: string): HarnessProxy {
  const upstream = new URL(upstreamUrl.replace(/^ws/, "http"));
  const pairs = new Set<Pair>();
  let held = false;

  const end = (pair: Pair) => {
    pairs.delete(pair);
    pair.harness.socket?.terminate();
    pair.upstream.socket?.terminate();
  };
  /** Toward the rendezvous; while held, nothing more is read from the harness. */
  const flushUp = (pair: Pair) => {
    if (!held) relayFlush(pair.upstream, pair.harness);
  };
  /** A harness that left on its own: the rendezvous learns it, as without the proxy. */
  const harnessEnded = (pair: Pair) => {
    if (!pair.harnessGone) end(pair);
  };

  const toRendezvous: SocketHandler<Pair> = {
    open(up) {
      up.data.upstream.socket = up;
      flushUp(up.data);
    },
    data(up, data) {
      if (!up.data.harnessGone) relayForward(up.data.harness, up.data.upstream, data);
    },
    drain: (up) => flushUp(up.data),
    close: (up) => end(up.data),
    error: (up) => end(up.data),
  };
  const fromHarnesses: SocketHandler<Pair> = {
    open(socket) {
      const pair: Pair = { harness: { socket, pending: [] }, upstream: { socket: null, pending: [] }, harnessGone: false };
      socket.data = pair;
      pairs.add(pair);
      if (held) socket.pause();
      Bun.connect<Pair>({ hostname: upstream.hostname, port: Number(upstream.port), data: pair, socket: toRendezvous }).catch(() => end(pair));
    },
    data: (socket, data) => relayForward(socket.data.upstream, socket.data.harness, data),
    drain: (socket) => relayFlush(socket.data.harness, socket.data.upstream),
    close: (socket) => harnessEnded(socket.data),
    error: (socket) => harnessEnded(socket.data),
  };
  const listener = Bun.listen<Pair>({ hostname: "127.0.0.1", port: 0, socket: fromHarnesses });

  return {
    url: `ws://127.0.0.1:${listener.port}${upstream.pathname}`,
    hold(on) {
      held = on;
      for (const pair of pairs) {
        if (on) pair.harness.socket?.pause();
        else flushUp(pair);
      }
    },
    dropHarnesses() {
      let n = 0;
      for (const pair of pairs) {
        if (pair.harnessGone) continue;
        pair.harnessGone = true;
        pair.harness.socket?.terminate();
        n++;
      }
      return n;
    },
    close() {
      for (const pair of [...pairs]) end(pair);
      listener.stop(true);
    },
  };
}
