/**
 * A tunnel through the executor to one of its loopback ports
 * (`client.openTunnel`). Bytes from the port arrive as `tunnel/data` and are
 * handed to the `onData` handler one chunk at a time; the executor is told
 * (`tunnel/ack`) once the handler has taken them, so a slow handler pauses the
 * remote port instead of growing this process's memory. Writes go out as
 * long as less than the executor's write window is unreported by
 * `tunnel/written`, so a slow port slows the writer here and never holds a
 * request on the executor.
 */
import type { NotificationParams } from "../protocol/methods.ts";
import type { TunnelCloseReason } from "../protocol/messages/tunnel.ts";
import { MAX_TUNNEL_CHUNK_BYTES, TUNNEL_WINDOW_BYTES, TUNNEL_WRITE_WINDOW_BYTES } from "../tunnel/limits.ts";

/** Consumed bytes are acknowledged in batches of this many (a quarter window: the executor never waits on a small ack). */
export const TUNNEL_ACK_BYTES = TUNNEL_WINDOW_BYTES / 4;

/** How a tunnel ended: the executor's reason, or `connectionLost` when the client's connection to it dropped. */
export type TunnelEnd = { reason: TunnelCloseReason | "connectionLost"; error: string | null };

/** What a tunnel needs from its client. */
export interface TunnelHost {
  write(tunnelId: string, chunk: Uint8Array | undefined, eof: boolean): Promise<void>;
  ack(tunnelId: string, bytes: number): Promise<void>;
  close(tunnelId: string): Promise<void>;
  forget(tunnelId: string): void;
}

/** `tunnel/data`'s params, or a binary data frame's bytes (src/client/tunnels.ts). */
type DataParams = NotificationParams<"tunnel/data"> | { tunnelId: string; bytes: Uint8Array };

function dataBytes(params: DataParams): Uint8Array {
  return "bytes" in params ? params.bytes : Buffer.from(params.chunk, "base64");
}

type Event = { kind: "data"; chunk: Uint8Array } | { kind: "eof" } | { kind: "closed"; end: TunnelEnd };
type DataHandler = (chunk: Uint8Array) => void | Promise<void>;

export class RemoteTunnel {
  /** Resolves once the tunnel is over and every byte before that was handed to `onData`. */
  readonly closed: Promise<TunnelEnd>;
  private resolveClosed!: (end: TunnelEnd) => void;
  private readonly events: Event[] = [];
  private dataHandler: DataHandler | null = null;
  private eofHandler: (() => void) | null = null;
  private eofSeen = false;
  private pumping = false;
  private consumed = 0;
  private ended = false;
  /** Bytes written and not yet reported taken by the executor's socket (`tunnel/written`). */
  private unreported = 0;
  /** Writers waiting for the window to open. */
  private creditWaiters: (() => void)[] = [];

  constructor(
    readonly tunnelId: string,
    private readonly host: TunnelHost,
    /** Its bytes go as binary WebSocket frames (else base64 JSON). */
    readonly binary = false,
  ) {
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
  }

  /** Sets the handler for the port's bytes (in order, one at a time; a returned promise holds the next). */
  onData(handler: DataHandler): void {
    this.dataHandler = handler;
    void this.pump();
  }

  /** Called once the port has sent EOF (after its last byte reached `onData`; at once if that happened already). */
  onEof(handler: () => void): void {
    this.eofHandler = handler;
    if (this.eofSeen) handler();
  }

  /**
   * Sends bytes to the port, in order; resolves once every chunk's write was
   * answered (queued on the executor). A chunk waits while the executor's
   * write window is full, i.e. while the port is not reading.
   */
  write(bytes: Uint8Array): Promise<void> {
    return this.inOrder(() => this.send(bytes));
  }

  /**
   * Sends `bytes` at once, straight from the caller's buffer (no copy kept),
   * when the tunnel is binary, nothing is queued before them and the window
   * has room; false: nothing was sent, use `write`. For a forwarder's socket
   * reads: most reads then cost no promise.
   */
  writeNow(bytes: Uint8Array): boolean {
    const n = bytes.byteLength;
    if (!this.binary || this.ended || this.queued > 0 || n === 0 || n > MAX_TUNNEL_CHUNK_BYTES || this.unreported + n > TUNNEL_WRITE_WINDOW_BYTES) return false;
    this.unreported += n;
    // A binary write sends before its first await; a send on a lost connection fails the tunnel through the client instead.
    void this.host.write(this.tunnelId, bytes, false).catch(() => {});
    return true;
  }

  /** Runs writes and the end one after another: a write waiting for the window must not be overtaken by the next, or by the EOF. */
  private inOrder(step: () => Promise<void>): Promise<void> {
    this.queued++;
    const done = this.queue.then(step).finally(() => this.queued--);
    this.queue = done.catch(() => {});
    return done;
  }
  private queue: Promise<void> = Promise.resolve();
  /** Writes and ends queued by `inOrder` and not finished. */
  private queued = 0;

  private async send(bytes: Uint8Array): Promise<void> {
    const sent: Promise<void>[] = [];
    for (let off = 0; off < bytes.byteLength; off += MAX_TUNNEL_CHUNK_BYTES) {
      const chunk = bytes.subarray(off, off + MAX_TUNNEL_CHUNK_BYTES);
      await this.credit(chunk.byteLength);
      this.unreported += chunk.byteLength;
      sent.push(this.host.write(this.tunnelId, chunk, false));
    }
    await Promise.all(sent);
  }

  /** Resolves once `bytes` more fit in the executor's write window (or the tunnel has ended: the write then fails there). */
  private async credit(bytes: number): Promise<void> {
    while (!this.ended && this.unreported + bytes > TUNNEL_WRITE_WINDOW_BYTES) {
      await new Promise<void>((resolve) => this.creditWaiters.push(resolve));
    }
  }

  private reported(bytes: number): void {
    this.unreported = Math.max(0, this.unreported - bytes);
    const waiters = this.creditWaiters;
    this.creditWaiters = [];
    for (const wake of waiters) wake();
  }

  /** Half-closes: the port reads EOF once what was written before has gone; its bytes still arrive. */
  end(): Promise<void> {
    return this.inOrder(() => this.host.write(this.tunnelId, undefined, true));
  }

  /** Closes both ways now; `closed` resolves with `clientClosed`. */
  async close(): Promise<void> {
    if (this.ended) return;
    await this.host.close(this.tunnelId);
  }

  /** A `tunnel/*` notification for this tunnel, from the client's router. */
  receive(
    method: "tunnel/data" | "tunnel/eof" | "tunnel/closed" | "tunnel/written",
    params: NotificationParams<"tunnel/closed"> | DataParams | NotificationParams<"tunnel/written">,
  ): void {
    if (this.ended) return;
    if (method === "tunnel/written") return this.reported((params as NotificationParams<"tunnel/written">).bytes);
    if (method === "tunnel/data") this.events.push({ kind: "data", chunk: dataBytes(params as DataParams) });
    else if (method === "tunnel/eof") this.events.push({ kind: "eof" });
    else {
      const p = params as NotificationParams<"tunnel/closed">;
      this.finish({ reason: p.reason, error: p.error });
    }
    void this.pump();
  }

  /** The connection to the executor is gone (tunnels do not survive it). */
  fail(error: unknown): void {
    if (this.ended) return;
    this.finish({ reason: "connectionLost", error: error instanceof Error ? error.message : String(error) });
    void this.pump();
  }

  private finish(end: TunnelEnd): void {
    this.ended = true;
    this.reported(0); // Writers waiting for the window go on, and their write fails on the closed tunnel.
    this.host.forget(this.tunnelId);
    this.events.push({ kind: "closed", end });
  }

  /** Delivers events in order, waiting for each data handler before the next. */
  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.events.length > 0) {
        const event = this.events[0]!;
        if (event.kind === "data") {
          if (!this.dataHandler) return;
          // Counted first: a handler may free the chunk's buffer once it has written it (execbox forward does).
          const bytes = event.chunk.byteLength;
          try {
            await this.dataHandler(event.chunk);
          } catch {
            // A handler that cannot take the bytes ends the tunnel rather than silently losing them.
            void this.close().catch(() => {});
          }
          this.taken(bytes);
        } else if (event.kind === "eof") {
          this.eofSeen = true;
          this.eofHandler?.();
        } else this.resolveClosed(event.end);
        this.events.shift();
      }
    } finally {
      this.pumping = false;
    }
  }

  private taken(bytes: number): void {
    this.consumed += bytes;
    if (this.consumed < TUNNEL_ACK_BYTES || this.ended) return;
    const n = this.consumed;
    this.consumed = 0;
    // An ack the executor cannot take (the tunnel closed meanwhile) changes nothing.
    void this.host.ack(this.tunnelId, n).catch(() => {});
  }
}
