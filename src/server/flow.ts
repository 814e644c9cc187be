/**
 * Flow control of one connection, in one place, whatever its transport
 * (WebSocket, stdio, a relay stream, a direct socket):
 *
 * - **Out**: every frame goes through `send`. The transport answers "sent",
 *   "congested" (taken, but it is backed up) or "dropped" (not taken: it
 *   cannot hold the frame now), and calls `drained()` when it can take more.
 *   Nothing is lost: a dropped frame is kept (a copy) at the head of the
 *   queue until then. Producers — process pipes and PTYs, HTTP body pumps —
 *   ask `ready()` before producing more, so the queue stays bounded by the
 *   high-water mark plus one read's worth.
 * - **In**: reading from the peer stops while any hold is on (the inbox is
 *   full, a large message waits for room) and resumes when none is.
 * - **Requests**: `requestSlot()` admits the next request once a slot is free
 *   (`--concurrent-requests`) and the answers queued for a client that is not
 *   reading are under their bound.
 *
 * Frames are lent (`LentFrame`): the transport must use or copy one during
 * `send`. What stays queued here is a `KeptFrame`, made by `keepFrame`.
 */
import { FRAME_HEADROOM, type LentFrame, endLoan } from "../protocol/byte-frame.ts";
import { releaseBuffer } from "../protocol/frame-memory.ts";
import { metrics } from "./metrics.ts";
import { Waiters } from "./waiters.ts";

export type SendResult = "sent" | "congested" | "dropped";

/** A frame to send: JSON text, or the same as lent UTF-8 bytes. */
export type Frame = string | LentFrame;

declare const kept: unique symbol;
/** A frame's own copy, which a queue may hold for as long as it needs. */
export type KeptFrame = string | { readonly buf: Uint8Array; readonly start: number; readonly end: number; readonly binary?: true; readonly [kept]: true };

/** What moves one connection's frames; it only moves them (the decisions are the flow's). */
export interface ConnectionTransport {
  /** The frame is lent: write it or copy it before returning. */
  send(frame: Frame | KeptFrame): SendResult;
  /** Carries binary messages (`LentFrame.binary`, tunnel frames); only then is it given any. */
  readonly binary?: boolean;
  /** Drops the connection without a close handshake (protocol violation). */
  abort(): void;
  /** Stop reading from the peer until `resumeReceiving`. */
  pauseReceiving?(): void;
  resumeReceiving?(): void;
}

/** Why reading from the peer is stopped; it resumes once no reason holds. */
export type ReadingHold = "inbox-full" | "awaiting-room" | "tunnel-writes";

export function frameLength(frame: Frame | KeptFrame): number {
  return typeof frame === "string" ? frame.length : frame.end - frame.start;
}

/** A copy of a lent frame that the caller may keep (with the headroom and scratch byte a transport expects). */
export function keepFrame(frame: Frame): KeptFrame {
  if (typeof frame === "string") return frame;
  const n = frame.end - frame.start;
  const buf = new Uint8Array(FRAME_HEADROOM + n + 1);
  buf.set(frame.buf.subarray(frame.start, frame.end), FRAME_HEADROOM);
  return { buf, start: FRAME_HEADROOM, end: FRAME_HEADROOM + n, ...(frame.binary ? { binary: true } : {}) } as KeptFrame;
}

/**
 * Above this many queued bytes (or while the transport is congested)
 * producers wait. Small on purpose: what sits here is lost if the connection
 * drops, and a resuming client must find it in the process's retained output
 * instead. (Measured: smaller limits cost no throughput.)
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

export class ConnectionFlow {
  private readonly queue: KeptFrame[] = [];
  private head = 0;
  private queuedBytes = 0;
  /** Answers among the queued frames (by index), and their bytes: only they count towards the answer backlog. */
  private readonly answers = new Set<number>();
  private queuedAnswerBytes = 0;
  private congested = false;
  private closed = false;
  private readonly producers = new Waiters();
  private readonly backlog = new Waiters();
  private readonly slots = new Waiters();
  private inflight = 0;
  private readonly holds = new Set<ReadingHold>();

  constructor(
    private readonly transport: ConnectionTransport,
    private readonly concurrentRequests: number,
  ) {}

  // ── out ──

  /** `answer`: a request's reply (counts towards the answer backlog); output and notifications are held by producer credit instead. */
  send(frame: Frame, answer = false): void {
    if (this.closed) return;
    if (!this.congested && this.head === this.queue.length) {
      const result = this.transport.send(frame);
      if (result !== "sent") this.congested = true;
      if (result !== "dropped") return this.lent(frame);
    }
    if (answer) {
      this.answers.add(this.queue.length);
      this.queuedAnswerBytes += frameLength(frame);
    }
    this.queue.push(keepFrame(frame));
    this.queuedBytes += frameLength(frame);
    this.lent(frame);
  }

  /** The transport can take more: flush what waits, then release producers. */
  drained(): void {
    this.congested = false;
    while (this.head < this.queue.length && !this.congested) {
      const frame = this.queue[this.head]!;
      const result = this.transport.send(frame);
      if (result === "dropped") {
        this.congested = true;
        break;
      }
      if (this.answers.delete(this.head)) this.queuedAnswerBytes -= frameLength(frame);
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
    if (!this.congested && this.queuedBytes < OUTBOX_LOW_WATER_BYTES) this.producers.wakeAll();
    if (this.queuedAnswerBytes < ANSWER_BACKLOG_BYTES / 2) this.backlog.wakeAll();
  }

  /** A producer's credit: `undefined` to go on now, else resolves once the transport has caught up. */
  ready(): Promise<void> | undefined {
    const wait = this.producers.unless(!this.closed && (this.congested || this.queuedBytes >= OUTBOX_HIGH_WATER_BYTES));
    if (wait) metrics.producerWaited();
    return wait;
  }

  // ── requests ──

  /** Resolves once the next request may start: a free slot, and answers not backlogged. False: the connection is gone. */
  async requestSlot(): Promise<boolean> {
    while (!this.closed && this.inflight >= this.concurrentRequests) await this.slots.wait();
    // A client that sends without reading meets a bounded backlog of answers, not an endless one.
    while (!this.closed && this.queuedAnswerBytes >= ANSWER_BACKLOG_BYTES) await this.backlog.wait();
    if (this.closed) return false;
    this.inflight++;
    return true;
  }

  /** A request admitted by `requestSlot` has been answered. */
  releaseSlot(): void {
    this.inflight--;
    this.slots.wakeAll();
  }

  get requestsInFlight(): number {
    return this.inflight;
  }

  // ── in ──

  holdReading(reason: ReadingHold, on: boolean): void {
    if (this.closed || on === this.holds.has(reason)) return;
    const wasPaused = this.holds.size > 0;
    if (on) this.holds.add(reason);
    else this.holds.delete(reason);
    const paused = this.holds.size > 0;
    if (paused === wasPaused) return;
    if (paused) this.transport.pauseReceiving?.();
    else this.transport.resumeReceiving?.();
  }

  /** The connection is gone: discard the queue and let every waiter continue. */
  close(): void {
    this.closed = true;
    this.queue.length = 0;
    this.head = 0;
    this.queuedBytes = 0;
    this.answers.clear();
    this.queuedAnswerBytes = 0;
    this.producers.wakeAll();
    this.backlog.wakeAll();
    this.slots.wakeAll();
  }

  /** A lent frame's send is over (see LentFrame). */
  private lent(frame: Frame): void {
    if (typeof frame !== "string") endLoan(frame);
  }
}
