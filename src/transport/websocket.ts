/**
 * WebSocket transport: HTTP/1.1 on one address, upgrade on `/`, `GET /readyz`, `GET /metrics`,
 * and the reference's HTTP answers for everything else. Moves frames only.
 *
 * Built on `Bun.listen` with our own framing rather than `Bun.serve`: Bun's
 * WebSocket takes only a JS string per text frame, so streaming output made
 * one short-lived string per chunk and the collector, not the stream, set the
 * peak memory. Here a frame is written from the bytes it was encoded into.
 */
import type { Socket, TCPSocketListener } from "bun";
import type { Connection } from "../server/connection.ts";
import type { ExecServer } from "../server/exec-server.ts";
import { osErrorText } from "../protocol/errors.ts";
import { metrics } from "../server/metrics.ts";
import { releaseBuffer } from "../protocol/frame-memory.ts";
import { MAX_INCOMING_MESSAGE_BYTES, MAX_WS_CONNECTIONS, WS_IDLE_TIMEOUT_SECONDS } from "../server/limits.ts";
import { type HttpReply, type RequestHead, acceptKey, formatReply, parseRequestHead } from "./http1.ts";
import { PendingUpgrades } from "./upgrade-gate.ts";
import { SHUTDOWN_CLOSE_CODE, SHUTDOWN_CLOSE_REASON } from "../protocol/shutdown.ts";
import { WebSocketPeer } from "./ws-peer.ts";

/** Checked before the upgrade; returns a rejection or undefined to proceed (auth plugs in here). `peer`: `IP:PORT`, for the log. */
export type UpgradeGuard = (headers: Headers, peer: string) => HttpReply | undefined;
/**
 * Checked when a connection opens, before anything is read; a reply refuses the peer. When the answer takes
 * a while (a promise), the socket is not read until it comes.
 */
export type PeerGuard = (
  local: { address: string; port: number },
  remote: { address: string; port: number },
) => HttpReply | undefined | Promise<HttpReply | undefined>;

/** PEM certificate (chain) and private key for `wss://`. */
export type TlsKeys = { cert: string; key: string };

export type WebSocketListener = {
  url: string;
  stop(): Promise<void>;
  /**
   * Serves new handshakes with `keys` (wss only). Bun's `reload` keeps the
   * first certificate (probed on Bun 1.4.5, `Bun.listen` and `Bun.serve`
   * alike), so the listening socket is replaced on the same port: open
   * connections stay, as they belong to no listener once accepted. When the
   * port cannot be bound again, throws, saying whether the old keys are
   * still served (bound back) or nothing listens any more.
   */
  setTls(keys: TlsKeys): void;
};

/** A client that has not finished its request head by then is dropped (slow-loris guard). */
export const HTTP_HEAD_TIMEOUT_MS = 10_000;
/** How often idle connections are checked for pings and the idle timeout. */
const IDLE_CHECK_MS = 5_000;

const TEXT = { "content-type": "text/plain; charset=utf-8" };
/** The answer to an upgrade past MAX_WS_CONNECTIONS (after authentication, so only a client that may connect learns it). */
const TOO_MANY: HttpReply = { status: 503, headers: TEXT, body: `too many connections: this executor serves at most ${MAX_WS_CONNECTIONS} at once` };

type SocketState = {
  peer: string;
  head: Buffer | null;
  ws: WebSocketPeer | null;
  timer: Timer | null;
  /** The peer guard has not answered yet: bytes are kept, not parsed. */
  checking: boolean;
  closed: boolean;
};

export function listenWebSocket(
  exec: ExecServer,
  host: string,
  port: number,
  guard: UpgradeGuard = () => undefined,
  peerGuard: PeerGuard = () => undefined,
  tls?: TlsKeys,
): WebSocketListener {
  const peers = new Set<WebSocketPeer>();
  const sockets = new Set<Socket<SocketState>>();
  /** Resolved when the last socket closes (set only while stopping). */
  let allClosed: (() => void) | undefined;
  const pending = new PendingUpgrades<Socket<SocketState>>();

  const upgrade = (socket: Socket<SocketState>, head: RequestHead, rest: Buffer) => {
    const state = socket.data;
    const key = head.headers.get("sec-websocket-key")!;
    pending.done(socket);
    socket.write(formatReply({ status: 101, headers: { upgrade: "websocket", connection: "Upgrade", "sec-websocket-accept": acceptKey(key) } }, false));
    const peer = new WebSocketPeer(socket, MAX_INCOMING_MESSAGE_BYTES);
    state.ws = peer;
    peers.add(peer);
    peer.connection = exec.connect(
      {
        send: (frame) => peer.send(frame),
        binary: true,
        abort: () => socket.terminate(),
        pauseReceiving: () => socket.pause(),
        resumeReceiving: () => socket.resume(),
      },
      {
        parseErrorPrefix: `failed to parse websocket JSON-RPC message from exec-server websocket ${state.peer}: `,
        detachOnClose: true,
        transport: "websocket",
        peer: state.peer,
      },
    );
    if (rest.byteLength > 0) peer.received(rest);
  };

  /** The peer guard's answer: refuse, or go on with whatever arrived meanwhile. */
  const applyVerdict = (socket: Socket<SocketState>, refusal: HttpReply | undefined) => {
    const state = socket.data;
    if (state.closed) return;
    state.checking = false;
    if (refusal) {
      state.head = null;
      return replyAndClose(socket, refusal);
    }
    socket.resume();
    if (state.head && state.head.byteLength > 0) onHead(socket, state.head);
  };

  const onHead = (socket: Socket<SocketState>, bytes: Buffer) => {
    const parsed = parseRequestHead(bytes);
    if (parsed === null) return;
    clearTimeout(socket.data.timer ?? undefined);
    socket.data.head = null;
    if (!("head" in parsed)) return replyAndClose(socket, parsed);
    const reply = route(parsed.head) ?? guard(parsed.head.headers, socket.data.peer);
    if (reply) return replyAndClose(socket, reply);
    if (parsed.head.path === METRICS_PATH) return replyAndClose(socket, metricsReply());
    if (peers.size >= MAX_WS_CONNECTIONS) return replyAndClose(socket, TOO_MANY);
    upgrade(socket, parsed.head, bytes.subarray(parsed.end));
  };

  const handlers: Bun.SocketHandler<SocketState> = {
    open(socket) {
      const ip = socket.remoteAddress;
      const peer = ip.includes(":") ? `[${ip}]:${socket.remotePort}` : `${ip}:${socket.remotePort}`;
      const timer = setTimeout(() => socket.terminate(), HTTP_HEAD_TIMEOUT_MS);
      socket.data = { peer, head: Buffer.alloc(0), ws: null, timer, checking: false, closed: false };
      socket.setNoDelay(true);
      sockets.add(socket);
      for (const old of pending.admit(socket, ip)) old.terminate();
      const verdict = peerGuard({ address: socket.localAddress, port: socket.localPort }, { address: ip, port: socket.remotePort });
      if (!(verdict instanceof Promise)) return applyVerdict(socket, verdict);
      socket.data.checking = true;
      socket.pause();
      void verdict.then((v) => applyVerdict(socket, v));
    },
    data(socket, data) {
      const state = socket.data;
      if (state.ws) {
        state.ws.received(data);
        // The frame reader copied it (its buffer, or the text decoded from it): free the read now, not at a collection.
        return releaseBuffer(data);
      }
      if (state.head === null) return; // answered; the rest is ignored until the socket closes
      state.head = state.head.byteLength === 0 ? Buffer.from(data) : Buffer.concat([state.head, data]);
      if (!state.checking) onHead(socket, state.head);
    },
    drain(socket) {
      socket.data.ws?.drained();
    },
    close(socket) {
      socket.data.closed = true;
      sockets.delete(socket);
      if (sockets.size === 0) allClosed?.();
      pending.done(socket);
      clearTimeout(socket.data.timer ?? undefined);
      const ws = socket.data.ws;
      if (!ws) return;
      peers.delete(ws);
      ws.closed();
    },
    error(socket) {
      socket.terminate();
    },
    // Present so that `open` runs at accept, not after the TLS handshake: the head timer then also
    // bounds a client that never completes the handshake. A failed handshake closes the socket itself.
    ...(tls ? { handshake() {} } : {}),
  };
  const bind = (at: number, keys: TlsKeys | undefined): TCPSocketListener<SocketState> =>
    Bun.listen<SocketState>({ hostname: host, port: at, socket: handlers, ...(keys ? { tls: keys } : {}) });
  let listener = bind(port, tls);

  const idleCheck = setInterval(() => {
    const now = Date.now();
    for (const peer of peers) peer.checkIdle(now, WS_IDLE_TIMEOUT_SECONDS * 1000);
  }, IDLE_CHECK_MS);
  idleCheck.unref();

  const shownHost = host.includes(":") ? `[${host}]` : host;
  let keys = tls;
  return {
    url: `${tls ? "wss" : "ws"}://${shownHost}:${listener.port}`,
    setTls(next) {
      if (!keys) throw new Error("not a wss listener");
      const at = listener.port;
      // Closed first: the port cannot be bound twice. Nothing runs in between, so only a
      // connection the kernel queued but we had not yet accepted is reset.
      listener.stop(false);
      try {
        listener = bind(at, next);
        keys = next;
      } catch (e) {
        const why = `cannot listen again on port ${at}: ${osErrorText(e)}`;
        try {
          listener = bind(at, keys);
        } catch {
          throw new Error(`${why}; no longer listening`);
        }
        throw new Error(`${why}; still serving the previous certificate`);
      }
    },
    /** Closes every client WebSocket with the shutdown close frame; resolves once every socket is gone. */
    stop: async () => {
      clearInterval(idleCheck);
      // Not stop(true): that drops every socket at once, before a close frame could go out.
      listener.stop();
      const gone = new Promise<void>((resolve) => (allClosed = resolve));
      if (sockets.size === 0) allClosed!();
      for (const peer of peers) peer.close(SHUTDOWN_CLOSE_CODE, SHUTDOWN_CLOSE_REASON, "server shutting down");
      for (const socket of sockets) if (!socket.data.ws) socket.end();
      await gone;
    },
  };
}

function replyAndClose(socket: Socket<SocketState>, reply: HttpReply): void {
  socket.end(formatReply(reply, true));
}

/** Prometheus metrics (execbox's own route): authenticated as the upgrade is. */
export const METRICS_PATH = "/metrics";

function metricsReply(): HttpReply {
  return { status: 200, headers: { "content-type": metrics.contentType }, body: metrics.text() };
}

/**
 * The HTTP routes of the reference, in its order: Origin first, then path,
 * then the upgrade checks; `/metrics` (a GET) passes on to authentication.
 */
function route(head: RequestHead): HttpReply | undefined {
  // Browsers always send Origin; refusing it keeps web pages off the executor.
  if (head.headers.has("origin")) return { status: 403 };
  if (head.path === "/readyz") {
    if (head.method === "GET" || head.method === "HEAD") return { status: 200 };
    return { status: 405, headers: { allow: "GET,HEAD" } };
  }
  if (head.path === METRICS_PATH) return head.method === "GET" ? undefined : { status: 405, headers: { allow: "GET" } };
  if (head.path !== "/") return { status: 404 };
  return upgradeProblem(head);
}

/** The upgrade checks and texts of the reference (axum's WebSocketUpgrade). */
function upgradeProblem(head: RequestHead): HttpReply | undefined {
  const bad = (body: string, status = 400): HttpReply => ({ status, headers: TEXT, body });
  if (head.method !== "GET") return bad("Request method must be `GET`", 405);
  const has = (name: string, token: string) =>
    (head.headers.get(name) ?? "")
      .toLowerCase()
      .split(",")
      .some((t) => t.trim() === token);
  if (!has("connection", "upgrade")) return bad("Connection header did not include 'upgrade'");
  if (!has("upgrade", "websocket")) return bad("`Upgrade` header did not include 'websocket'");
  if (head.headers.get("sec-websocket-version") !== "13") return bad("`Sec-WebSocket-Version` header did not include '13'");
  if (!head.headers.get("sec-websocket-key")) return bad("`Sec-WebSocket-Key` header missing");
  return undefined;
}
