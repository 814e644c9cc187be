/**
 * One tunnel: a TCP connection the executor made to a loopback port, whose
 * bytes it moves for the client. It knows nothing of the client's transport:
 * it hands `tunnel/*` frames to a sink (the connection) and asks the sink's
 * `ready()` before reading more, as process output does.
 *
 * Bounds: remote → client, the socket is paused while the connection's
 * outbox is congested or the client has not acknowledged a window's worth
 * (so neither the executor's outbox nor the client's buffer grows with a
 * slow reader); client → remote, a `tunnel/write` is answered once its
 * bytes are queued and `tunnel/written` reports what the socket took, so the
 * executor holds at most a write window and no request waits on the port.
 */
import type { Socket, SocketHandler } from "bun";
import { encodeBase64Frame, encodeTunnelDataFrame } from "../protocol/byte-frame.ts";
import { encodeNotification } from "../protocol/envelope.ts";
import { releaseBuffer } from "../protocol/frame-memory.ts";
import { invalidParams, invalidRequest } from "../protocol/errors.ts";
import type { TunnelCloseReason } from "../protocol/messages/tunnel.ts";
import type { Frame } from "../server/flow.ts";
import { MAX_TUNNEL_CHUNK_BYTES, TUNNEL_WINDOW_BYTES, TUNNEL_WRITE_WINDOW_BYTES, TUNNEL_WRITTEN_REPORT_BYTES } from "./limits.ts";
import { JOINED_WRITE_BYTES, enqueueCopy, writeQueued } from "./write-queue.ts";

/** What a tunnel needs from the connection that carries it. */
export interface TunnelSink {
  send(frame: Frame): void;
  /** The connection's transport carries binary messages (binary tunnel frames). */
  readonly carriesBinary: boolean;
  /** `undefined` when the client can take more now, else resolves when it can. */
  ready(): Promise<void> | undefined;
  /** Stops (true) or resumes reading the client: its tunnels hold too much for their ports (table.ts). */
  holdReading(on: boolean): void;
}

export class Tunnel {
  private socket: Socket<Tunnel> | null = null;
  private seq = 0;
  /** `tunnel/data` bytes sent and not yet acknowledged by the client. */
  private unacked = 0;
  /** Waiting for the outbox to drain (the socket is paused meanwhile). */
  private awaitingFlow = false;
  /** Reading is held until the `tunnel/open` answer is out, so no data precedes the id. */
  private started = false;
  /** Written bytes the socket has not taken yet, and how many. */
  private readonly unwritten: Uint8Array[] = [];
  private unwrittenBytes = 0;
  /** Bytes the socket took since the last `tunnel/written`. */
  private taken = 0;
  private eofSent = false;
  /** `tunnel/eof` went out. */
  private eofReported = false;
  private finSent = false;
  private error: string | null = null;
  closed = false;

  constructor(
    readonly id: string,
    private readonly sink: TunnelSink,
    /** Called once the tunnel is over, whoever ended it. */
    private readonly onClosed: (tunnel: Tunnel) => void,
    /** The bytes this tunnel holds for its port changed by `delta` (the table bounds their sum). */
    private readonly onUnwritten: (delta: number) => void,
    /** Bytes go as binary tunnel frames (src/protocol/tunnel-frame.ts), not base64 JSON. */
    readonly binary = false,
  ) {}

  /** The socket connected (paused until `start`). */
  attach(socket: Socket<Tunnel>): void {
    this.socket = socket;
    socket.pause();
  }

  /** The `tunnel/open` answer is out: data may flow. */
  start(): void {
    this.started = true;
    this.maybeResume();
  }

  /**
   * Queues `chunk` (then half-closes with `eof`) and writes what the socket
   * takes now; the rest goes as it drains, reported by `tunnel/written`.
   */
  write(chunk: Uint8Array | undefined, eof: boolean): void {
    // A request is taken in request order, which a binary frame received meanwhile would overtake: one way for the bytes only.
    if (this.binary && chunk && chunk.byteLength > 0) {
      throw invalidRequest(`tunnel ${this.id} was opened with binary: true: send its bytes as binary frames (tunnel/write carries only its eof)`);
    }
    this.queue(chunk, eof);
  }

  /** `borrowed`: `chunk` is valid only during this call (a view of the WebSocket's read buffer). */
  private queue(chunk: Uint8Array | undefined, eof: boolean, borrowed = false): void {
    if (this.closed) throw invalidRequest(`tunnel ${this.id} is closed`);
    if (this.eofSent) throw invalidRequest(`tunnel ${this.id} was already half-closed with eof`);
    const length = chunk?.byteLength ?? 0;
    if (length > MAX_TUNNEL_CHUNK_BYTES) {
      throw invalidParams(`tunnel/write chunk of ${length} bytes exceeds the limit of ${MAX_TUNNEL_CHUNK_BYTES} bytes`);
    }
    if (this.unwrittenBytes + length > TUNNEL_WRITE_WINDOW_BYTES) {
      throw invalidRequest(
        `tunnel/write would leave more than ${TUNNEL_WRITE_WINDOW_BYTES} bytes unwritten on tunnel ${this.id}: send only as much more as tunnel/written reports`,
      );
    }
    if (chunk && length > 0) {
      this.unwritten.push(chunk);
      this.setUnwritten(this.unwrittenBytes + length);
    }
    if (eof) this.eofSent = true;
    this.flush();
    if (chunk) this.keepUnwritten(chunk, borrowed);
  }

  /**
   * What the socket did not take of `chunk` (the queue's tail, if any) is
   * copied when borrowed, and joined with other small ones either way, so
   * the queue holds few entries however small the writes.
   */
  private keepUnwritten(chunk: Uint8Array, borrowed: boolean): void {
    const tail = this.unwritten.at(-1);
    if (!tail || tail.buffer !== chunk.buffer || (!borrowed && tail.byteLength >= JOINED_WRITE_BYTES)) return;
    this.unwritten.pop();
    enqueueCopy(this.unwritten, tail);
  }

  /**
   * A binary write frame's payload (a view valid only now: what the socket
   * does not take at once is copied). There is no request to answer, so a
   * client that breaks the tunnel's rules (past the write window, after its
   * eof) loses the tunnel: `tunnel/closed` with reason `error` says why.
   */
  writeFrame(payload: Uint8Array): void {
    try {
      this.queue(payload, false, true);
    } catch (e) {
      this.error = e instanceof Error ? e.message : String(e);
      this.close("error");
    }
  }

  /** The client consumed `bytes` of `tunnel/data`: that much more may be sent. */
  ack(bytes: number): void {
    if (this.closed) return;
    if (bytes > this.unacked) throw invalidParams(`tunnel/ack of ${bytes} bytes exceeds the ${this.unacked} bytes sent and not acknowledged`);
    this.unacked -= bytes;
    this.maybeResume();
  }

  /** Ends the tunnel; `notify`: tell the client with `tunnel/closed` (not when its connection is gone). */
  close(reason: TunnelCloseReason, notify = true): void {
    if (this.closed) return;
    this.closed = true;
    this.socket?.terminate();
    this.unwritten.length = 0;
    this.setUnwritten(0);
    if (notify) this.sink.send(encodeNotification("tunnel/closed", { tunnelId: this.id, reason, error: reason === "error" ? this.error : null }));
    this.onClosed(this);
  }

  private setUnwritten(bytes: number): void {
    if (bytes !== this.unwrittenBytes) this.onUnwritten(bytes - this.unwrittenBytes);
    this.unwrittenBytes = bytes;
  }

  /** Socket events, shared by every tunnel (`socket.data` is the tunnel). */
  static readonly handlers: SocketHandler<Tunnel> = {
    // Nothing is read before the tunnel is attached and started.
    open: (socket) => socket.pause(),
    data: (socket, bytes) => socket.data.received(bytes),
    drain: (socket) => socket.data.flush(),
    end: (socket) => socket.data.remoteEof(),
    error: (socket, e) => void (socket.data.error ??= socketErrorText(e)),
    close: (socket, e) => socket.data.socketClosed(e),
  };

  /**
   * The socket is gone. Bun names no error for a reset it learns of while
   * not reading or writing (a port that goes while our writes wait for it),
   * so bytes still queued for the port make it an error too: a clean
   * `remoteClosed` would hide that they were lost.
   */
  private socketClosed(e: unknown): void {
    if (e) this.error ??= socketErrorText(e);
    else if (this.unwrittenBytes > 0 && !this.closed) this.error ??= `the port closed before taking ${this.unwrittenBytes} written bytes`;
    // A clean close is the port's EOF too; Bun may close a half-closed socket whose FIN came while it was paused without `end`.
    if (!this.error) this.remoteEof();
    this.close(this.error ? "error" : "remoteClosed");
  }

  private received(bytes: Uint8Array): void {
    if (this.closed) return;
    for (let off = 0; off < bytes.byteLength; off += MAX_TUNNEL_CHUNK_BYTES) {
      const part = bytes.subarray(off, off + MAX_TUNNEL_CHUNK_BYTES);
      this.sink.send(this.binary ? encodeTunnelDataFrame(this.id, part) : this.dataNotification(part));
      this.unacked += part.byteLength;
    }
    // Encoded (copied) into the frame: the socket's read buffer is garbage now; free it rather than at some later collection.
    releaseBuffer(bytes);
    const wait = this.sink.ready();
    if (wait && !this.awaitingFlow) {
      this.awaitingFlow = true;
      void wait.then(() => {
        this.awaitingFlow = false;
        this.maybeResume();
      });
    }
    if (this.awaitingFlow || this.unacked >= TUNNEL_WINDOW_BYTES) this.socket?.pause();
  }

  private dataNotification(part: Uint8Array): Frame {
    const head = `{"method":"tunnel/data","params":{"tunnelId":${JSON.stringify(this.id)},"seq":${++this.seq},"chunk":"`;
    return encodeBase64Frame(head, part, '"}}');
  }

  private maybeResume(): void {
    if (!this.closed && this.started && !this.awaitingFlow && this.unacked < TUNNEL_WINDOW_BYTES) this.socket?.resume();
  }

  /** The remote port sent FIN: no more data; our side may still write. */
  private remoteEof(): void {
    if (this.closed || this.eofReported) return;
    this.eofReported = true;
    this.sink.send(encodeNotification("tunnel/eof", { tunnelId: this.id }));
  }

  /** Writes what the socket takes and reports it; once all is taken after an eof, sends FIN. */
  private flush(): void {
    const socket = this.socket;
    if (!socket || this.closed) return;
    const empty = writeQueued(socket, this.unwritten);
    let left = 0;
    for (const chunk of this.unwritten) left += chunk.byteLength;
    this.taken += this.unwrittenBytes - left;
    this.setUnwritten(left);
    if (this.taken > 0 && (empty || this.taken >= TUNNEL_WRITTEN_REPORT_BYTES)) {
      this.sink.send(encodeNotification("tunnel/written", { tunnelId: this.id, bytes: this.taken }));
      this.taken = 0;
    }
    if (empty && this.eofSent && !this.finSent) {
      this.finSent = true;
      socket.shutdown();
    }
  }
}

/** The socket errnos a loopback connection meets, with their strerror text (Bun's own messages say only "Failed to connect"). */
const SOCKET_ERRORS: Record<string, string> = {
  ECONNREFUSED: "Connection refused",
  ECONNRESET: "Connection reset by peer",
  EPIPE: "Broken pipe",
  ETIMEDOUT: "Connection timed out",
  EADDRNOTAVAIL: "Address not available",
};

/** A socket error as the client sees it: the errno name and its text, e.g. `ECONNREFUSED: Connection refused`. */
export function socketErrorText(e: unknown): string {
  const err = e as { code?: string; message?: string };
  const text = err.code ? SOCKET_ERRORS[err.code] : undefined;
  if (err.code && text) return `${err.code}: ${text}`;
  return String(err.message ?? e);
}
