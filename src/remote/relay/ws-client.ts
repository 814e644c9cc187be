/**
 * The executor's one WebSocket to the rendezvous, on a raw TCP (or TLS)
 * socket with execbox's own framing rather than Bun's WebSocket client: this
 * way the upgrade's HTTP status is known (a 4xx means "re-register", §3),
 * every write reports what the kernel took (the rest is queued and counted,
 * never dropped), and incoming messages are capped before they are buffered.
 */
import type { Socket } from "bun";
import { randomBytes } from "node:crypto";
import type { Clock } from "../../server/clock.ts";
import { acceptKey } from "../../transport/http1.ts";
import { CloseCode, closePayload, FrameReader, MAX_FRAME_HEADER_BYTES, Opcode, unmask, writeFrameHeader } from "../../transport/ws-frames.ts";
import { RELAY_MAX_UPGRADE_HEAD_BYTES } from "./limits.ts";

/** The upgrade was answered with an HTTP status other than 101. */
export class UpgradeRejectedError extends Error {
  override name = "UpgradeRejectedError";
  constructor(readonly status: number) {
    super(`rendezvous refused the WebSocket upgrade with HTTP ${status}`);
  }
}

export interface SocketOptions {
  connectTimeoutMs: number;
  pingIntervalMs: number;
  pongTimeoutMs: number;
  maxMessageBytes: number;
  clock: Clock;
  /** Extra upgrade request headers (the direct transport's SigV4 signature). */
  upgradeHeaders?: Record<string, string>;
  /** Reserves room for an incoming message (see AdmitMessage); null stops reading until `retry` is called. */
  admit?(soFar: number, final: boolean, retry: () => void): number | null;
}

export interface SocketEvents {
  /** One complete message; `payload` is only valid during the call. */
  onMessage(payload: Uint8Array, binary: boolean): void;
  /** The queue fell to zero after a write the kernel did not take at once. */
  onDrain(): void;
  /** Called once when the socket is gone, with why (`pong_timeout`, `closed by the rendezvous`, …). */
  onClose(why: string): void;
}

/** Where a masked frame's payload starts in its buffer: past the longest header and the 4-byte mask, 4-aligned. */
const MASKED_BODY_OFFSET = (MAX_FRAME_HEADER_BYTES + 4 + 3) & ~3;

/** Bytes a payload given to `sendBinaryInPlace` must have free before it in its buffer: the longest header and the mask. */
export const WS_CLIENT_HEADROOM = MAX_FRAME_HEADER_BYTES + 4;


/**
 * Writes a masked client frame's header and fresh random mask into the
 * `WS_CLIENT_HEADROOM` bytes before `payload` in its buffer, masks the payload
 * in place, and returns the whole frame (a view of the same buffer).
 */
function maskFrameInPlace(opcode: number, payload: Uint8Array): Uint8Array {
  const whole = new Uint8Array(payload.buffer, payload.byteOffset - WS_CLIENT_HEADROOM, payload.byteLength + WS_CLIENT_HEADROOM);
  const maskAt = WS_CLIENT_HEADROOM - 4;
  const start = writeFrameHeader(whole, maskAt, opcode, payload.byteLength);
  whole[start + 1]! |= 0x80;
  const mask = whole.subarray(maskAt, WS_CLIENT_HEADROOM);
  crypto.getRandomValues(mask);
  unmask(payload, mask); // masking and unmasking are the same XOR
  return whole.subarray(start);
}

/** One masked client frame (RFC 6455 §5.3: a client masks everything it sends) in a fresh buffer. */
export function maskedFrame(opcode: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(MASKED_BODY_OFFSET + payload.byteLength);
  const body = out.subarray(MASKED_BODY_OFFSET);
  body.set(payload);
  return maskFrameInPlace(opcode, body);
}

export class RendezvousSocket {
  private sock: Socket<undefined> | undefined;
  private readonly out: Uint8Array[] = [];
  private queued = 0;
  /** A write was only partly taken: `onDrain` is owed once the queue is empty. */
  private backedUp = false;
  private closedWhy: string | null = null;
  private cancelPongDeadline = () => {};
  private cancelPing = () => {};
  private readonly reader: FrameReader;
  /** Bytes that came with the 101 response, read at `start`. */
  private early = new Uint8Array(0);
  private started = false;

  private constructor(
    private readonly events: SocketEvents,
    private readonly opts: SocketOptions,
  ) {
    const retry = () => {
      if (this.closedWhy === null) this.read(new Uint8Array(0));
    };
    this.reader = new FrameReader(opts.maxMessageBytes, (soFar, final) => opts.admit?.(soFar, final, retry) ?? 0, true);
  }

  /**
   * Connects and upgrades. Resolves once the 101 is in; rejects with
   * UpgradeRejectedError for another status, or an Error for network failures
   * and timeouts. Nothing is read until `start`.
   */
  static async dial(url: string, events: SocketEvents, opts: SocketOptions): Promise<RendezvousSocket> {
    const ws = new RendezvousSocket(events, opts);
    const u = new URL(url);
    const key = randomBytes(16).toString("base64");
    let head: string | null = "";
    const { promise: upgraded, resolve, reject } = Promise.withResolvers<void>();
    const cancelTimeout = opts.clock.after(opts.connectTimeoutMs, () => reject(new Error(`rendezvous connect timed out after ${opts.connectTimeoutMs} ms`)));
    const secure = u.protocol === "wss:";
    const onData = (d: Uint8Array) => {
      if (head === null) {
        if (ws.started) ws.read(d);
        else ws.early = Buffer.concat([ws.early, d]);
        return;
      }
      head += Buffer.from(d).toString("latin1");
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) {
        if (head.length > RELAY_MAX_UPGRADE_HEAD_BYTES) reject(new Error("rendezvous upgrade response head too long"));
        return;
      }
      const refused = upgradeProblem(head.slice(0, end + 2), key);
      const rest = Buffer.from(head.slice(end + 4), "latin1");
      head = null;
      if (refused) return reject(refused);
      ws.early = rest;
      resolve();
    };
    const connecting = Bun.connect({
      hostname: u.hostname.replace(/^\[|\]$/g, ""),
      port: Number(u.port || (secure ? 443 : 80)),
      tls: secure ? { serverName: u.hostname } : undefined,
      socket: {
        data: (_s, d) => onData(d),
        drain: () => ws.flush(),
        close: () => (head === null ? ws.gone("connection closed by the rendezvous") : reject(new Error("rendezvous closed the connection during the upgrade"))),
        error: (_s, e) => (head === null ? ws.gone(`socket error: ${e.message}`) : reject(e)),
      },
    });
    // A TCP connect that completes after the timeout fired is closed at once.
    connecting.then((s) => ws.closedWhy !== null && s.terminate(), () => {});
    // The timeout must also cut a TCP connect that hangs (SYN unanswered), not only the upgrade.
    const failed = new Promise<never>((_, fail) => void upgraded.catch(fail));
    try {
      ws.sock = await Promise.race([connecting, failed]);
      ws.sock.setNoDelay(true); // Small frames (a reset, a short answer) must not wait for delayed ACKs.
      ws.sock.write(upgradeRequest(u, key, opts.upgradeHeaders ?? {}));
      await upgraded;
    } catch (e) {
      ws.closedWhy = "upgrade failed";
      ws.sock?.terminate();
      throw e;
    } finally {
      cancelTimeout();
    }
    return ws;
  }

  /**
   * Starts reading and the keepalive; the owner calls it once it holds the
   * socket, so no event reaches it earlier. The first ping goes out
   * `pingIntervalMs` after this.
   */
  start(): void {
    this.started = true;
    this.startKeepalive();
    if (this.early.byteLength > 0) this.read(this.early);
    this.early = new Uint8Array(0);
  }

  /** Bytes framed but not yet taken by the kernel. */
  get queuedBytes(): number {
    return this.queued;
  }

  get closed(): boolean {
    return this.closedWhy !== null;
  }

  /** Queues one binary message. Never drops: what the kernel does not take stays queued (the caller bounds it with `queuedBytes`). */
  sendBinary(payload: Uint8Array): void {
    this.write(maskedFrame(Opcode.binary, payload));
  }

  /**
   * `sendBinary` without the copy: `payload` is borrowed, and must have
   * `WS_CLIENT_HEADROOM` bytes free before it in its buffer. The header is
   * written there and the payload masked in place; only what the kernel does
   * not take at once is copied (and queued).
   */
  sendBinaryInPlace(payload: Uint8Array): void {
    if (this.closedWhy !== null || !this.sock) return;
    const frame = maskFrameInPlace(Opcode.binary, payload);
    if (this.out.length > 0) return this.write(frame.slice());
    const n = Math.max(this.sock.write(frame), 0);
    if (n === frame.byteLength) return;
    this.backedUp = true;
    this.out.push(frame.slice(n));
    this.queued += frame.byteLength - n;
  }

  /** Queues one text message (UTF-8 bytes), never dropped, as `sendBinary`. */
  sendText(payload: Uint8Array): void {
    this.write(maskedFrame(Opcode.text, payload));
  }

  /** Stops reading from the peer until `resume` (the server core's back-pressure on a fast sender). */
  pause(): void {
    this.sock?.pause();
  }

  resume(): void {
    this.sock?.resume();
  }

  /** Sends a close frame and ends the socket; `onClose(why)` follows. */
  close(why: string, code: number = CloseCode.normal): void {
    if (this.closedWhy !== null) return;
    this.write(maskedFrame(Opcode.close, closePayload(code)));
    const sock = this.sock;
    this.gone(why); // First: ending the socket may report its close at once, and that is not why it closed.
    sock?.end();
  }

  /** Ends the connection without a close frame (the peer sees 1006), as a server drops a client it gives up on; `onClose(why)` follows. */
  terminate(why: string): void {
    if (this.closedWhy !== null) return;
    const sock = this.sock;
    this.gone(why);
    sock?.terminate();
  }

  private startKeepalive(): void {
    this.armPongDeadline();
    const ping = () => {
      this.write(maskedFrame(Opcode.ping, new Uint8Array(0)));
      this.cancelPing = this.opts.clock.after(this.opts.pingIntervalMs, ping);
    };
    this.cancelPing = this.opts.clock.after(this.opts.pingIntervalMs, ping);
  }

  private armPongDeadline(): void {
    this.cancelPongDeadline();
    this.cancelPongDeadline = this.opts.clock.after(this.opts.pongTimeoutMs, () => this.close("pong_timeout", CloseCode.normal));
  }

  private read(d: Uint8Array): void {
    this.reader.push(d, (event) => {
      if (this.closedWhy !== null) return;
      switch (event.kind) {
        case "message":
          return this.events.onMessage(event.payload, event.binary);
        case "ping":
          return this.write(maskedFrame(Opcode.pong, event.payload));
        case "pong":
          return this.armPongDeadline();
        case "close":
          return this.close(`closed by the rendezvous (code ${event.code ?? "none"})`);
        case "fail":
          return this.close(`rendezvous broke the WebSocket protocol: ${event.reason}`, event.code);
      }
    });
  }

  private write(frame: Uint8Array): void {
    if (this.closedWhy !== null || !this.sock) return;
    this.out.push(frame);
    this.queued += frame.byteLength;
    if (this.out.length === 1) this.flush();
  }

  private flush(): void {
    for (let b = this.out[0]; b && this.sock; b = this.out[0]) {
      const n = Math.max(this.sock.write(b), 0);
      this.queued -= n;
      if (n < b.byteLength) {
        this.backedUp = true;
        return void (this.out[0] = b.subarray(n));
      }
      this.out.shift();
    }
    // Not for a write taken at once: the sender would be re-entered from inside its own send.
    if (this.backedUp && this.queued === 0) {
      this.backedUp = false;
      this.events.onDrain();
    }
  }

  private gone(why: string): void {
    if (this.closedWhy !== null) return;
    this.closedWhy = why;
    this.cancelPing();
    this.cancelPongDeadline();
    this.out.length = 0;
    this.queued = 0;
    this.events.onClose(why);
  }
}

/** The upgrade request (§3): no Authorization (unless `extra` has one), no subprotocol, an `x-request-id`. */
function upgradeRequest(u: URL, key: string, extra: Record<string, string>): string {
  const requestId = `req_${randomBytes(16).toString("hex")}`;
  const lines = Object.entries(extra).map(([name, value]) => {
    if (/[\r\n]/.test(name + value)) throw new Error(`upgrade header ${name} contains a line break`);
    return `${name}: ${value}\r\n`;
  });
  return (
    `GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\nx-request-id: ${requestId}\r\n${lines.join("")}\r\n`
  );
}

/** Why an upgrade response head is not a valid 101 for `key`, or null. */
function upgradeProblem(head: string, key: string): Error | null {
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(head);
  if (!status) return new Error("rendezvous answered the upgrade with something that is not HTTP");
  const code = Number(status[1]);
  if (code !== 101) return new UpgradeRejectedError(code);
  const accept = acceptKey(key);
  const got = /\r\nsec-websocket-accept:[ \t]*([^\r]*)\r\n/i.exec(head)?.[1]?.trim();
  return got === accept ? null : new Error("rendezvous upgrade response has a wrong Sec-WebSocket-Accept");
}
