/**
 * A rendezvous for tests, on 127.0.0.1:0: a Bun WebSocket server speaking the
 * relay wire format (one binary RelayMessageFrame per message; Bun answers the
 * executor's pings). It can play the harness side of the relay itself: it
 * injects frames for a stream id, collects the frames the executor sends,
 * closes the socket, and can answer the next upgrade with an HTTP error
 * (403 → re-register).
 *
 * It also routes like the real service (remote.md §1, §5.8): harnesses dial
 * `harnessUrl()` (what the fake registry's connect returns); a harness frame
 * claims its `stream_id` for that harness socket and goes to the executor
 * socket as is; an executor frame goes to the harness socket that claimed its
 * stream. When a harness socket closes, the executor gets a `reset` for each
 * stream it held, so the executor detaches those sessions.
 *
 * SilentRendezvous completes the upgrade and then neither reads nor answers:
 * no pongs (pong timeout) and real TCP back-pressure on the executor.
 */
import type { ServerWebSocket, Socket, TCPSocketListener } from "bun";
import protobuf from "protobufjs/light.js";
import { decodeRelayFrame, encodeRelayFrame, handshakeFrame, type RelayFrame, resetFrame, resumeFrame } from "../../src/remote/relay/frame.ts";
import { acceptKey } from "../../src/transport/http1.ts";
import { encodeFrame, Opcode } from "../../src/transport/ws-frames.ts";

const WAIT_MS = 5_000;
/** The path of harness sockets; every other path is the executor's. */
const HARNESS_PATH = "/harness";
/** The reason of the reset sent to the executor for each stream of a harness socket that closed. */
export const HARNESS_GONE_REASON = "harness_disconnected";

type Role = { harness: boolean };

export interface Upgrade {
  path: string;
  headers: Record<string, string>;
}

export class FakeRendezvous {
  /** The executor's upgrades. */
  readonly upgrades: Upgrade[] = [];
  readonly harnessUpgrades: Upgrade[] = [];
  /** Frames the executor sent, decoded, across connections. */
  readonly received: RelayFrame[] = [];
  /** Closes seen by the server: who closed and how. */
  readonly closes: { code: number; reason: string }[] = [];
  pings = 0;
  opened = 0;
  /** Harness frames forwarded to the executor, decoded. */
  readonly fromHarness: RelayFrame[] = [];
  private socket: ServerWebSocket<Role> | null = null;
  /** stream_id → the harness socket that claimed it. */
  private readonly routes = new Map<string, ServerWebSocket<Role>>();
  readonly harnessSockets = new Set<ServerWebSocket<Role>>();
  private rejectStatus: number | null = null;
  private waiters = new Set<() => void>();
  private readonly server: ReturnType<typeof Bun.serve>;
  /** Sockets whose reading is paused, by the backed-up socket their frames go to (resumed on its drain or close). */
  private readonly pausedFor = new Map<ServerWebSocket<Role>, Set<ServerWebSocket<Role>>>();

  /**
   * `backpressureLimit`: bytes Bun may queue for a slow socket before it drops
   * a frame (its default is 16 MiB). A benchmark that outruns its harness
   * raises it so no relay frame is lost (a lost frame stalls a Noise stream).
   */
  /** Whether frames are decoded into `received` / `fromHarness` (a benchmark only routes, reading just each frame's stream id). */
  private readonly record: boolean;

  constructor(options: { backpressureLimit?: number; record?: boolean } = {}) {
    this.record = options.record ?? true;
    this.server = Bun.serve<Role>({
      hostname: "127.0.0.1",
      port: 0,
      fetch: (req, server) => {
        const url = new URL(req.url);
        const harness = url.pathname === HARNESS_PATH;
        (harness ? this.harnessUpgrades : this.upgrades).push({ path: url.pathname + url.search, headers: Object.fromEntries(req.headers) });
        if (this.rejectStatus !== null && !harness) {
          const status = this.rejectStatus;
          this.rejectStatus = null;
          this.changed();
          return new Response(`{"error":{"code":"invalid_signature","message":"refused by the fake"}}`, { status });
        }
        return server.upgrade(req, { data: { harness } }) ? undefined : new Response("upgrade expected", { status: 400 });
      },
      websocket: {
        maxPayloadLength: 16 * 1024 * 1024,
        idleTimeout: 0,
        sendPings: false,
        ...(options.backpressureLimit === undefined ? {} : { backpressureLimit: options.backpressureLimit }),
        open: (ws) => {
          if (ws.data.harness) return void this.harnessSockets.add(ws);
          this.socket = ws;
          this.opened++;
          this.changed();
        },
        message: (ws, msg) => {
          if (ws.data.harness) this.fromHarnessSocket(ws, msg);
          else if (typeof msg !== "string") this.fromExecutor(ws, msg);
          this.changed();
        },
        ping: () => {
          this.pings++;
          this.changed();
        },
        // Like the real service, a backed-up socket slows its sender (TCP back-pressure end to end) instead of queueing without bound.
        drain: (ws) => this.resumeSendersTo(ws),
        close: (ws, code, reason) => {
          this.resumeSendersTo(ws);
          if (ws.data.harness) return this.harnessClosed(ws);
          if (this.socket === ws) this.socket = null;
          this.closes.push({ code, reason });
          this.changed();
        },
      },
    });
  }

  /** The URL the registry would hand out; `path` tells rendezvous URLs apart. */
  url(path = "/relay"): string {
    return `ws://127.0.0.1:${this.server.port}${path}`;
  }

  /** The URL harnesses dial (the fake registry's connect answer). */
  harnessUrl(): string {
    return this.url(HARNESS_PATH);
  }

  get connected(): boolean {
    return this.socket !== null;
  }

  /** The next upgrade is answered with `status` instead of 101. */
  rejectNextUpgrade(status = 403): void {
    this.rejectStatus = status;
  }

  /** Sends a frame (or raw bytes) to the executor on the current socket. */
  inject(frame: RelayFrame | Uint8Array): void {
    const bytes = frame instanceof Uint8Array ? frame : encodeRelayFrame(frame);
    // Bun reports 0 for an empty message even when it is sent.
    if (!this.socket || (this.socket.sendBinary(bytes) <= 0 && bytes.byteLength > 0)) throw new Error("fake rendezvous: no socket took the frame");
  }

  injectText(text: string): void {
    if (!this.socket || this.socket.sendText(text) <= 0) throw new Error("fake rendezvous: no socket took the text");
  }

  /** What a harness sends to open a stream: `resume{0}`, then `handshake{message1}`. */
  openStream(streamId: string, message1: Uint8Array): void {
    this.inject(resumeFrame(streamId));
    this.inject(handshakeFrame(streamId, message1));
  }

  /** Frames the executor sent for `streamId`. */
  framesFor(streamId: string): RelayFrame[] {
    return this.received.filter((f) => f.streamId === streamId);
  }

  /** Closes every harness socket from the rendezvous side (each of their streams is reset toward the executor). */
  closeHarnessSockets(code = 1001, reason = "rendezvous restarting"): void {
    for (const ws of this.harnessSockets) ws.close(code, reason);
  }

  /** Closes the executor's socket from the rendezvous side. */
  closeSocket(code = 1001, reason = "rendezvous restarting"): void {
    this.socket?.close(code, reason);
  }

  /** Waits until `pred` holds, re-checked on every server event. */
  async waitFor(pred: () => boolean, what: string, timeoutMs = WAIT_MS): Promise<void> {
    if (pred()) return;
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    const check = () => pred() && resolve();
    const timer = setTimeout(() => reject(new Error(`fake rendezvous: timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
    this.waiters.add(check);
    try {
      await promise;
    } finally {
      clearTimeout(timer);
      this.waiters.delete(check);
    }
  }

  stop(): void {
    this.server.stop(true);
  }

  [Symbol.dispose](): void {
    this.stop();
  }

  private fromExecutor(from: ServerWebSocket<Role>, bytes: Uint8Array): void {
    if (!this.record) return this.forward(from, this.routes.get(streamIdOf(bytes)), bytes);
    const frame = decodeRelayFrame(bytes);
    this.received.push(frame);
    this.forward(from, this.routes.get(frame.streamId), bytes);
  }

  /** Sends `bytes` on to `to`; when Bun had to queue them there, `from` is not read until `to` drains. */
  private forward(from: ServerWebSocket<Role>, to: ServerWebSocket<Role> | null | undefined, bytes: Uint8Array): void {
    if (!to || to.sendBinary(bytes) !== -1) return;
    from.pause();
    const paused = this.pausedFor.get(to) ?? new Set();
    paused.add(from);
    this.pausedFor.set(to, paused);
  }

  private resumeSendersTo(ws: ServerWebSocket<Role>): void {
    const paused = this.pausedFor.get(ws);
    if (!paused) return;
    this.pausedFor.delete(ws);
    for (const sender of paused) sender.resume();
  }

  /** A harness frame claims its stream for that socket and goes to the executor unchanged; text is dropped. */
  private fromHarnessSocket(ws: ServerWebSocket<Role>, msg: string | Buffer): void {
    if (typeof msg === "string") return;
    const bytes = new Uint8Array(msg);
    if (!this.record) {
      this.routes.set(streamIdOf(bytes), ws);
      return this.forward(ws, this.socket, bytes);
    }
    const frame = decodeRelayFrame(bytes);
    this.fromHarness.push(frame);
    this.routes.set(frame.streamId, ws);
    this.forward(ws, this.socket, bytes);
  }

  private harnessClosed(ws: ServerWebSocket<Role>): void {
    this.harnessSockets.delete(ws);
    for (const [streamId, owner] of this.routes) {
      if (owner !== ws) continue;
      this.routes.delete(streamId);
      this.socket?.sendBinary(encodeRelayFrame(resetFrame(streamId, HARNESS_GONE_REASON)));
    }
    this.changed();
  }

  private changed(): void {
    for (const check of [...this.waiters]) check();
  }
}

/** RelayMessageFrame.stream_id (field 2), read without decoding (or copying) the rest of the frame. */
const STREAM_ID_FIELD = 2;
function streamIdOf(bytes: Uint8Array): string {
  const reader = protobuf.Reader.create(bytes);
  let streamId = "";
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    if (tag >>> 3 === STREAM_ID_FIELD) streamId = reader.string();
    else reader.skipType(tag & 7);
  }
  return streamId;
}

/**
 * Completes upgrades, sends `greeting` frames (e.g. a stream's resume and
 * handshake), then reads nothing and answers nothing (no pongs, TCP back-pressure).
 */
export class SilentRendezvous {
  private readonly sockets: Socket<undefined>[] = [];
  private readonly listener: TCPSocketListener<undefined>;

  constructor(greeting: RelayFrame[] = []) {
    this.listener = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        open: (s) => void this.sockets.push(s),
        data: (s, d) => {
          const key = /\r\nsec-websocket-key:\s*(\S+)/i.exec(d.toString("latin1"))?.[1];
          if (!key) return;
          const accept = acceptKey(key);
          s.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
          for (const frame of greeting) s.write(encodeFrame(Opcode.binary, encodeRelayFrame(frame)));
          s.pause(); // From here on nothing is read: the executor's writes back up in the kernel, then in its own queue.
        },
      },
    });
  }

  get url(): string {
    return `ws://127.0.0.1:${this.listener.port}/silent`;
  }

  stop(): void {
    for (const s of this.sockets) s.terminate();
    this.listener.stop(true);
  }

  [Symbol.dispose](): void {
    this.stop();
  }
}
