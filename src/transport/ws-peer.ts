/**
 * One upgraded WebSocket on a Bun TCP socket: frames in to the connection,
 * frames out with back-pressure, pings while idle, the close handshake.
 *
 * Bun's `socket.write` writes what the kernel takes and returns the count; the
 * rest is ours to keep. What could not be written waits here (a copy), the
 * send reports "congested", and the connection's producers wait until
 * `drain` has flushed it — so at most one frame's remainder is held here.
 */
import type { Socket } from "bun";
import type { Connection } from "../server/connection.ts";
import { FRAME_HEADROOM } from "../protocol/byte-frame.ts";
import { releaseBuffer } from "../protocol/frame-memory.ts";
import type { Frame, KeptFrame, SendResult } from "../server/flow.ts";
import { isTunnelFrame } from "../protocol/tunnel-frame.ts";
import { CloseCode, FrameReader, MAX_FRAME_HEADER_BYTES, Opcode, closePayload, encodeFrame, writeFrameHeader } from "./ws-frames.ts";

/** A connection quiet this long gives back a large read buffer it kept (see RETAINED_READ_BUFFER_BYTES). */
const READ_BUFFER_QUIET_MS = 1_000;

/** Text frames up to this size are encoded into one reused buffer; bigger ones get their own. */
const SCRATCH_BYTES = 256 * 1024;

export class WebSocketPeer {
  connection: Connection | null = null;
  private readonly reader: FrameReader;
  private readonly fatalDecoder = new TextDecoder("utf-8", { fatal: true });
  private readonly looseDecoder = new TextDecoder();
  private readonly scratch = Buffer.allocUnsafeSlow(SCRATCH_BYTES);
  private pending: Uint8Array[] = [];
  private lastReceived = Date.now();
  private pinged = false;
  /** A close frame has been queued; the socket ends once it is flushed. */
  private closing = false;
  /** Why the socket ends, for the connection's log line; none yet: it was lost without a close frame. */
  private why: string | undefined;

  constructor(
    private readonly socket: Socket<unknown>,
    maxMessageBytes: number,
  ) {
    if (MAX_FRAME_HEADER_BYTES > FRAME_HEADROOM) throw new Error("frame headroom too small for a WebSocket header");
    this.reader = new FrameReader(maxMessageBytes, (soFar, final) => this.connection?.admitMessage(soFar, final, this.retry) ?? 0);
  }

  received(bytes: Uint8Array): void {
    this.lastReceived = Date.now();
    this.pinged = false;
    this.read(bytes);
  }

  /** A message that had to wait is admitted now: read on from the bytes already buffered. */
  private readonly retry = (): void => {
    if (!this.closing) this.read(new Uint8Array(0));
  };

  private read(bytes: Uint8Array): void {
    this.reader.push(bytes, (event) => {
      switch (event.kind) {
        case "message":
          this.deliver(event.binary, event.payload);
          break;
        case "ping":
          this.write(encodeFrame(Opcode.pong, event.payload));
          break;
        case "pong":
          break;
        case "close":
          this.why ??= `closed by the client (code ${event.code ?? "none"})`;
          this.close(event.code ?? CloseCode.normal);
          break;
        case "fail":
          this.fail(event.code);
          break;
      }
    });
  }

  send(frame: Frame | KeptFrame): SendResult {
    // Ending: take nothing, so producers stay paused and the output stays retained for a resume.
    if (this.closing) return "dropped";
    if (typeof frame !== "string") {
      const start = writeFrameHeader(frame.buf, frame.start, frame.binary ? Opcode.binary : Opcode.text, frame.end - frame.start);
      return this.write(frame.buf, start, frame.end);
    }
    if (frame.length * 3 <= SCRATCH_BYTES - FRAME_HEADROOM) {
      const n = this.scratch.write(frame, FRAME_HEADROOM, "utf8");
      const start = writeFrameHeader(this.scratch, FRAME_HEADROOM, Opcode.text, n);
      return this.write(this.scratch, start, FRAME_HEADROOM + n);
    }
    const bytes = Buffer.allocUnsafe(FRAME_HEADROOM + Buffer.byteLength(frame));
    const n = bytes.write(frame, FRAME_HEADROOM, "utf8");
    const start = writeFrameHeader(bytes, FRAME_HEADROOM, Opcode.text, n);
    return this.write(bytes, start, FRAME_HEADROOM + n);
  }

  /** The socket can take more: flush what waits, then let the connection's producers go on. */
  drained(): void {
    while (this.pending.length > 0) {
      const head = this.pending[0]!;
      const n = this.socket.write(head);
      if (n < head.byteLength) {
        this.pending[0] = head.subarray(Math.max(n, 0));
        return;
      }
      this.pending.shift();
      // Our copy, all written: free it now rather than at some later collection.
      releaseBuffer(new Uint8Array(head.buffer));
    }
    if (this.closing) this.socket.end();
    else this.connection?.drained();
  }

  /** Starts the close handshake with `code` and `reason`; the socket ends once everything queued is out. */
  close(code: number, reason = "", why = reason): void {
    if (this.closing) return;
    this.why ??= why;
    this.write(encodeFrame(Opcode.close, closePayload(code, reason)));
    this.closing = true;
    if (this.pending.length === 0) this.socket.end();
  }

  /** The socket is gone. */
  closed(): void {
    this.closing = true;
    this.pending = [];
    void this.connection?.closedByTransport(this.why ?? "connection lost (no close frame)");
  }

  /** Pings a quiet client once, and drops one that stays silent for the whole idle timeout. */
  checkIdle(now: number, idleTimeoutMs: number): void {
    const quiet = now - this.lastReceived;
    if (quiet >= READ_BUFFER_QUIET_MS) this.reader.shrink();
    if (quiet >= idleTimeoutMs) {
      this.why ??= "idle timeout";
      this.socket.terminate();
    } else if (quiet >= idleTimeoutMs / 2 && !this.pinged && !this.closing) {
      this.pinged = true;
      this.write(encodeFrame(Opcode.ping, new Uint8Array(0)));
    }
  }

  /** Decoded straight from the reader's buffer (`payload` is valid only now): no copy of a large message's bytes. */
  private deliver(binary: boolean, payload: Uint8Array): void {
    // Closing: what the client sent after the close (or after what made us close) is not acted on.
    if (this.closing) return;
    let text: string;
    if (binary && this.connection?.takesTunnelFrames && isTunnelFrame(payload)) {
      const refusal = this.connection?.receiveTunnelFrame(payload);
      if (refusal) this.close(refusal.code, refusal.reason);
      return;
    }
    if (binary) {
      text = this.looseDecoder.decode(payload);
    } else {
      try {
        text = this.fatalDecoder.decode(payload);
      } catch {
        return this.fail(CloseCode.invalidData);
      }
    }
    this.connection?.receive(text);
  }

  /** The peer broke the protocol: a best-effort close frame, then the socket goes. */
  private fail(code: number): void {
    this.why ??= `protocol error (code ${code})`;
    if (!this.closing && this.pending.length === 0) this.socket.write(encodeFrame(Opcode.close, closePayload(code)));
    this.closing = true;
    this.socket.end();
  }

  private write(buf: Uint8Array, from = 0, to = buf.byteLength): SendResult {
    if (this.pending.length > 0) {
      this.pending.push(copyOf(buf, from, to));
      return "congested";
    }
    const n = this.socket.write(buf, from, to - from);
    if (n === to - from) return "sent";
    this.pending.push(copyOf(buf, from + Math.max(n, 0), to));
    return "congested";
  }
}

/** A copy (`Buffer#slice` would return a view of a buffer that is about to be reused). */
function copyOf(buf: Uint8Array, from: number, to: number): Uint8Array {
  return new Uint8Array(buf.subarray(from, to));
}
