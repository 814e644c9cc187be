/**
 * One direct-transport WebSocket (remote.md §7) served as one JSON-RPC
 * session: each message is one JSON text frame, as on a `--listen ws://`
 * connection, through the same server core (`exec.connect`). The executor is
 * the WebSocket client here, so its frames are masked (RendezvousSocket), but
 * the session behaves as a listener's: the harness speaks first, the session
 * detaches when the socket ends (a reconnect may resume it), and a socket the
 * kernel does not drain makes the server's producers wait ("congested").
 */
import type { Connection } from "../server/connection.ts";
import type { ExecServer } from "../server/exec-server.ts";
import { MAX_INCOMING_MESSAGE_BYTES } from "../server/limits.ts";
import type { ConnectionTransport, Frame, KeptFrame, SendResult } from "../server/flow.ts";
import { systemClock } from "../server/clock.ts";
import { CloseCode } from "../transport/ws-frames.ts";
import { RELAY_CONNECT_TIMEOUT_MS, RELAY_PING_INTERVAL_MS, RELAY_PONG_TIMEOUT_MS } from "./relay/limits.ts";
import { RendezvousSocket, type SocketEvents } from "./relay/ws-client.ts";

export class DirectSession implements SocketEvents {
  private socket: RendezvousSocket | null = null;
  private connection: Connection | null = null;
  private readonly fatalDecoder = new TextDecoder("utf-8", { fatal: true });
  private readonly looseDecoder = new TextDecoder();
  private readonly ended = Promise.withResolvers<string>();
  /** A send reported "congested": the connection waits for `drained`. */
  private congested = false;

  private constructor() {}

  /**
   * Dials `url` with `upgradeHeaders` (the SigV4 signature) and starts
   * serving once the upgrade is in. Rejects as RendezvousSocket.dial does
   * (UpgradeRejectedError carries the HTTP status).
   */
  static async open(exec: ExecServer, url: string, upgradeHeaders: Record<string, string>): Promise<DirectSession> {
    const session = new DirectSession();
    const socket = await RendezvousSocket.dial(url, session, {
      connectTimeoutMs: RELAY_CONNECT_TIMEOUT_MS,
      pingIntervalMs: RELAY_PING_INTERVAL_MS,
      pongTimeoutMs: RELAY_PONG_TIMEOUT_MS,
      maxMessageBytes: MAX_INCOMING_MESSAGE_BYTES,
      clock: systemClock,
      upgradeHeaders,
      admit: (soFar, final, retry) => session.connection?.admitMessage(soFar, final, retry) ?? 0,
    });
    session.socket = socket;
    session.connection = exec.connect(session.sink(socket), {
      parseErrorPrefix: `failed to parse websocket JSON-RPC message from direct exec-server websocket ${withoutQuery(url)}: `,
      detachOnClose: true,
      transport: "direct",
      peer: "direct",
    });
    // Gone between the 101 and here: onClose found no connection to detach.
    if (socket.closed) void session.connection.closedByTransport();
    socket.start();
    return session;
  }

  /** Settles with why once the socket is gone (the session has detached by then). */
  get closed(): Promise<string> {
    return this.ended.promise;
  }

  close(why: string): void {
    this.socket?.close(why);
  }

  onMessage(payload: Uint8Array, binary: boolean): void {
    let text: string;
    try {
      text = binary ? this.looseDecoder.decode(payload) : this.fatalDecoder.decode(payload);
    } catch {
      return this.socket?.close("the peer sent a text frame that is not UTF-8", CloseCode.invalidData);
    }
    this.connection?.receive(text);
  }

  /** Only after a "congested" send: the flow waits for exactly that drain and must never be re-entered from inside `send`. */
  onDrain(): void {
    if (!this.congested) return;
    this.congested = false;
    this.connection?.drained();
  }

  onClose(why: string): void {
    const detached = this.connection?.closedByTransport(why) ?? Promise.resolve();
    void detached.finally(() => this.ended.resolve(why));
  }

  /** Sends are queued whole (never dropped while open); anything the kernel did not take yet reports "congested". */
  private sink(socket: RendezvousSocket): ConnectionTransport {
    return {
      send: (frame: Frame | KeptFrame): SendResult => {
        // Ending: take nothing, so producers stay paused and the output stays retained for a resume.
        if (socket.closed) return "dropped";
        socket.sendText(typeof frame === "string" ? Buffer.from(frame, "utf8") : frame.buf.subarray(frame.start, frame.end));
        this.congested = socket.queuedBytes > 0;
        return this.congested ? "congested" : "sent";
      },
      // No close frame, as the reference (and a --listen connection): the peer sees 1006.
      abort: () => socket.terminate("the server core dropped the connection"),
      pauseReceiving: () => socket.pause(),
      resumeReceiving: () => socket.resume(),
    };
  }
}

/** The endpoint as the reference names it in a parse error: no query or fragment (they may carry a signature). */
function withoutQuery(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}${u.pathname}`;
}
