/**
 * Outgoing frames of one connection, with back-pressure. A transport's send
 * reports "sent", "congested" (taken, but the socket is backed up) or
 * "dropped" (not taken — a transport that cannot hold the frame). Nothing is
 * ever lost: a dropped frame stays at the head of the queue until the
 * transport drains. Producers await `ready()` so the queue stays
 * bounded by the high-water mark plus one read's worth of output.
 */
import { type ByteFrame, FRAME_HEADROOM } from "../protocol/byte-frame.ts";
import { releaseBuffer } from "../protocol/frame-memory.ts";

export type SendResult = "sent" | "congested" | "dropped";

/** A frame to send: JSON text, or the same as borrowed UTF-8 bytes. */
export type Frame = string | ByteFrame;

export function frameLength(frame: Frame): number {
  return typeof frame === "string" ? frame.length : frame.end - frame.start;
}

/** A copy of a borrowed frame that the caller may keep. */
function keep(frame: Frame): Frame {
  if (typeof frame === "string") return frame;
  const n = frame.end - frame.start;
  const buf = new Uint8Array(FRAME_HEADROOM + n + 1);
  buf.set(frame.buf.subarray(frame.start, frame.end), FRAME_HEADROOM);
  return { buf, start: FRAME_HEADROOM, end: FRAME_HEADROOM + n };
}

export interface FrameSink {
  send(frame: Frame): SendResult;
  /** Drops the connection without a close handshake (protocol violation). */
  abort(): void;
  /** Stop reading from the peer until `resumeReceiving` (back-pressure on a client that sends faster than it reads). */
  pauseReceiving?(): void;
  resumeReceiving?(): void;
}

/**
 * Above this many queued bytes (or while the socket is congested) producers
 * wait. Small on purpose: what sits here is lost if the connection drops, and
 * a resuming client must find it in the process's retained output instead.
 * (Measured: smaller limits cost no throughput.)
 */
export const OUTBOX_HIGH_WATER_BYTES = 512 * 1024;
/** Producers resume once the queue is back under this. */
export const OUTBOX_LOW_WATER_BYTES = 128 * 1024;
/**
 * Answers are not paused like output, so a congested queue still takes them
 * and requests keep being carried out (a `process/terminate` from a client
 * that is not reading still kills). Only past this backlog does the next
 * request wait, so a client that sends without reading cannot grow it further.
 */
export const ANSWER_BACKLOG_BYTES = 4 * 1024 * 1024;

export class Outbox {
  private readonly queue: Frame[] = [];
  private head = 0;
  private queuedBytes = 0;
  private congested = false;
  private closed = false;
  private readonly waiters: (() => void)[] = [];
  private readonly backlogWaiters: (() => void)[] = [];

  constructor(private readonly sink: FrameSink) {}

  push(frame: Frame): void {
    if (this.closed) return;
    if (!this.congested && this.head === this.queue.length) {
      const result = this.sink.send(frame);
      if (result === "sent") return;
      this.congested = true;
      if (result === "congested") return;
    }
    this.queue.push(keep(frame));
    this.queuedBytes += frameLength(frame);
  }

  /** The transport can take more: flush what waits, then release producers. */
  drained(): void {
    this.congested = false;
    while (this.head < this.queue.length && !this.congested) {
      const frame = this.queue[this.head]!;
      const result = this.sink.send(frame);
      if (result === "dropped") {
        this.congested = true;
        break;
      }
      this.queue[this.head++] = "";
      this.queuedBytes -= frameLength(frame);
      // The transport wrote it or copied what it could not: our copy is free now, not at some later collection.
      if (typeof frame !== "string") releaseBuffer(frame.buf);
      if (result === "congested") this.congested = true;
    }
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
    }
    if (!this.congested && this.queuedBytes < OUTBOX_LOW_WATER_BYTES) wakeAll(this.waiters);
    if (this.queuedBytes < ANSWER_BACKLOG_BYTES / 2) wakeAll(this.backlogWaiters);
  }

  /** Pending while answers queued for a client that is not reading exceed the backlog limit. */
  backlogged(): Promise<void> | undefined {
    if (this.closed || this.queuedBytes < ANSWER_BACKLOG_BYTES) return undefined;
    return new Promise((resolve) => this.backlogWaiters.push(resolve));
  }

  ready(): Promise<void> | undefined {
    if (this.closed || (!this.congested && this.queuedBytes < OUTBOX_HIGH_WATER_BYTES)) return undefined;
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** The connection is gone: discard the queue and let producers continue. */
  close(): void {
    this.closed = true;
    this.queue.length = 0;
    this.head = 0;
    this.queuedBytes = 0;
    wakeAll(this.waiters);
    wakeAll(this.backlogWaiters);
  }
}

/** Empties `waiters` first, so one that waits again lands in the list for next time. */
function wakeAll(waiters: (() => void)[]): void {
  for (const wake of waiters.splice(0)) wake();
}
