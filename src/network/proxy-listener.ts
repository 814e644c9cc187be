/**
 * The SOCKS5 listener's connection handling: a listener on
 * 127.0.0.1:0 whose connections first speak a handshake (bytes gathered
 * until the protocol has what it needs), then, once a destination is
 * allowed, become a byte pipe to it with back-pressure both ways. A
 * connection that is never allowed is answered and closed; stopping the
 * listener ends every connection (the process is gone).
 */
import type { Socket, SocketHandler, TCPSocketListener } from "bun";
import { type RelaySide, relayFlush, relayForward } from "../sandbox/socket-relay.ts";

/**
 * Connections one process's proxy holds at once (each may hold an upstream
 * socket and up to a read's worth of bytes each way); one more is closed at
 * once. Far above what a build or package manager opens in parallel (npm's
 * default is 15 sockets per origin), low enough that a runaway child cannot
 * exhaust the executor's descriptors through its proxy.
 */
export const MAX_PROXY_CONNECTIONS = 256;
/** Bytes a client may send before its handshake is complete (a request head, a SOCKS greeting); past it: closed. */
export const MAX_HANDSHAKE_BYTES = 64 * 1024;

/** One client connection as a protocol sees it during the handshake. */
export interface ClientConnection {
  /** `127.0.0.1:port` of the client, as notifications report it. */
  readonly client: string;
  /** A handshake reply that does not end it (SOCKS5's method choice). */
  send(bytes: Uint8Array): void;
  /** Answers and closes (no pipe follows). */
  reject(reply: Uint8Array | string): void;
  /**
   * Connects to `address:port`; once connected writes `toClient` to the
   * client and `toUpstream` upstream, then pipes both ways. Resolves false
   * (nothing written) when the connect fails.
   */
  pipe(address: string, port: number, toClient: Uint8Array | string, toUpstream?: Uint8Array): Promise<boolean>;
}

/**
 * A protocol, one per connection (it may keep state between calls): given
 * everything received since it last took bytes, either asks for more
 * (`null`), or takes over (returns how many bytes it consumed; it then
 * calls `reject` or `pipe`, and what follows the consumed bytes goes
 * upstream once piped). It may `send` and ask for more along the way.
 */
export type Handshake = (conn: ClientConnection, received: Buffer) => number | null;

type State = {
  client: RelaySide & { socket: Socket<State> };
  upstream: RelaySide & { socket: Socket<State> | null };
  received: Buffer;
  handshake: Handshake;
  phase: "handshake" | "deciding" | "piped" | "dead";
  /** Client bytes that arrived while deciding: they go upstream after the consumed head. */
  early: Buffer[];
};

export type ProxyListener = { port: number; stop(): void };

export function startProxyListener(newHandshake: () => Handshake): ProxyListener {
  const live = new Set<State>();
  /** `s` is undefined for a socket refused at open (over the cap): nothing to end but itself. */
  const kill = (s: State | undefined) => {
    if (!s || s.phase === "dead") return;
    s.phase = "dead";
    live.delete(s);
    s.client.socket.end();
    s.upstream.socket?.end();
  };
  const upstreamHandler: SocketHandler<State> = {
    data: (socket, data) => {
      if (socket.data.phase === "piped") relayForward(socket.data.client, socket.data.upstream, data);
    },
    drain: (socket) => relayFlush(socket.data.upstream, socket.data.client),
    close: (socket) => kill(socket.data),
    error: (socket) => kill(socket.data),
  };
  const connectionOf = (s: State): ClientConnection => ({
    client: `${s.client.socket.remoteAddress}:${(s.client.socket as unknown as { remotePort?: number }).remotePort ?? 0}`,
    send(bytes) {
      if (s.phase === "handshake") s.client.socket.write(bytes);
    },
    reject(reply) {
      if (s.phase === "dead") return;
      s.client.socket.end(reply);
      s.phase = "dead";
      live.delete(s);
    },
    async pipe(address, port, toClient, toUpstream) {
      let upstream: Socket<State>;
      try {
        upstream = await Bun.connect<State>({ hostname: address, port, data: s, socket: upstreamHandler });
      } catch {
        return false;
      }
      if (s.phase === "dead") {
        upstream.end();
        return true;
      }
      s.upstream.socket = upstream;
      s.phase = "piped";
      relayForward(s.client, s.upstream, typeof toClient === "string" ? Buffer.from(toClient, "latin1") : toClient);
      if (toUpstream && toUpstream.byteLength > 0) relayForward(s.upstream, s.client, toUpstream);
      for (const bytes of s.early.splice(0)) relayForward(s.upstream, s.client, bytes);
      return true;
    },
  });
  const onClientData = (s: State, data: Buffer) => {
    if (s.phase === "piped") return relayForward(s.upstream, s.client, data);
    if (s.phase === "deciding") {
      s.early.push(Buffer.from(data));
      if (s.early.reduce((n, b) => n + b.byteLength, 0) > MAX_HANDSHAKE_BYTES) kill(s);
      return;
    }
    if (s.phase !== "handshake") return;
    s.received = Buffer.concat([s.received, data]);
    const used = s.handshake(connectionOf(s), s.received);
    if (used === null) {
      if (s.received.byteLength > MAX_HANDSHAKE_BYTES) kill(s);
      return;
    }
    if (s.phase === "handshake") s.phase = "deciding";
    const rest = s.received.subarray(used);
    if (rest.byteLength > 0 && s.phase === "deciding") s.early.push(Buffer.from(rest));
    s.received = Buffer.alloc(0);
  };
  const clientHandler: SocketHandler<State> = {
    open(socket) {
      if (live.size >= MAX_PROXY_CONNECTIONS) return void socket.terminate();
      const s: State = { client: { socket, pending: [] }, upstream: { socket: null, pending: [] }, received: Buffer.alloc(0), handshake: newHandshake(), phase: "handshake", early: [] };
      socket.data = s;
      live.add(s);
    },
    data: (socket, data) => onClientData(socket.data, data),
    drain: (socket) => relayFlush(socket.data.client, socket.data.upstream),
    close: (socket) => kill(socket.data),
    error: (socket) => kill(socket.data),
  };
  const listener: TCPSocketListener<State> = Bun.listen<State>({ hostname: "127.0.0.1", port: 0, socket: clientHandler });
  return {
    port: listener.port,
    stop() {
      listener.stop(true);
      for (const s of [...live]) kill(s);
    },
  };
}
