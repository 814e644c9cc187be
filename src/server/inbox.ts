/**
 * A connection's received messages waiting to be handled, and what bounds
 * them: above either high-water mark the transport stops reading, so a
 * client that sends faster than it reads (or floods) meets TCP back-pressure
 * instead of growing the server's memory; and a large message holds a share
 * of the executor-wide large-message room from its first frame until its
 * handler has started (see IncomingBudget).
 */
import type { Incoming } from "../protocol/envelope.ts";
import type { ReadingHold } from "./flow.ts";
import type { IncomingBudget } from "./incoming-memory.ts";
import { LARGE_INCOMING_MESSAGE_BYTES, MAX_INCOMING_MESSAGE_BYTES } from "./limits.ts";

/** Above either, reading stops; it resumes below half of both. */
export const INBOX_HIGH_WATER_MESSAGES = 1024;
export const INBOX_HIGH_WATER_BYTES = 16 * 1024 * 1024;

/** A received message waiting to be handled; `reserved`: its share of the large-message room. */
export type InboxEntry = { msg: Incoming; size: number; reserved: number };

/** How the inbox stops and restarts the transport's reading (the connection's flow). */
export type ReadControl = { holdReading(reason: ReadingHold, on: boolean): void };

export class Inbox {
  private readonly entries: InboxEntry[] = [];
  private bytes = 0;
  /** Over a high-water mark, until back under half of both. */
  private full = false;
  /** Reserved for this connection's large message (at most one): being received, queued or decoded. */
  private held = 0;
  /** Reserved for the message being received, not delivered yet. */
  private receiving = 0;
  /** Set while a large message waits for room; calls the transport back once there may be some. */
  private roomWaiter: (() => void) | null = null;
  private closed = false;

  constructor(
    private readonly reading: ReadControl,
    private readonly budget: IncomingBudget,
  ) {}

  get length(): number {
    return this.entries.length;
  }

  /**
   * For a transport that knows a message's size before reading it
   * (WebSocket): `soFar` bytes with the frame at hand, `final` if it is the
   * last. A large message reserves its size (a fragmented one the largest
   * message's), one per connection; returns the bytes reserved, 0 if none
   * are needed, or null to wait — reading pauses, and `retry` is called once
   * there may be room.
   */
  admitMessage(soFar: number, final: boolean, retry: () => void): number | null {
    if (soFar < LARGE_INCOMING_MESSAGE_BYTES) return 0;
    // Closed, or asked again (bytes that arrived before reading paused) while this message already waits.
    if (this.closed || this.roomWaiter) return null;
    const bytes = final ? soFar : MAX_INCOMING_MESSAGE_BYTES;
    const onRoom = () => {
      this.roomWaiter = null;
      this.updateReading();
      queueMicrotask(retry);
    };
    // Our own previous large message must be done first; then the shared room must have space.
    if (this.held === 0 && this.budget.take(bytes, onRoom)) {
      this.held = this.receiving = bytes;
      return bytes;
    }
    this.roomWaiter = onRoom;
    this.updateReading();
    return null;
  }

  push(msg: Incoming, size: number): void {
    this.entries.push({ msg, size, reserved: this.receiving });
    this.receiving = 0;
    this.bytes += size;
    this.updateReading();
  }

  shift(): InboxEntry | undefined {
    const entry = this.entries.shift();
    if (entry) this.bytes -= entry.size;
    this.updateReading();
    return entry;
  }

  /** A message has been handled: its reservation goes back (if still held), and a large one's memory is reclaimed. */
  finished(entry: InboxEntry): void {
    if (entry.size >= LARGE_INCOMING_MESSAGE_BYTES) this.budget.reclaimer.handled(entry.size);
    this.release(entry);
  }

  /** Gives a message's share of the room back; idempotent. */
  release(entry: InboxEntry): void {
    if (entry.reserved === 0) return;
    this.held -= entry.reserved;
    this.budget.give(entry.reserved);
    entry.reserved = 0;
    if (this.held === 0) this.roomWaiter?.();
  }

  /** The connection is gone: what is not being handled goes back now; handled messages give theirs back when done. */
  close(): void {
    this.closed = true;
    const unhandled = this.receiving + this.entries.reduce((n, e) => n + e.reserved, 0);
    this.held -= unhandled;
    this.receiving = 0;
    this.budget.give(unhandled);
    if (this.roomWaiter) this.budget.forget(this.roomWaiter);
    this.roomWaiter = null;
    this.entries.length = 0;
  }

  /** Reading stops while over a high-water mark, until below half, or while a large message waits for room. */
  private updateReading(): void {
    if (this.closed) return;
    this.full = this.full
      ? this.entries.length >= INBOX_HIGH_WATER_MESSAGES / 2 || this.bytes >= INBOX_HIGH_WATER_BYTES / 2
      : this.entries.length >= INBOX_HIGH_WATER_MESSAGES || this.bytes >= INBOX_HIGH_WATER_BYTES;
    this.reading.holdReading("inbox-full", this.full);
    this.reading.holdReading("awaiting-room", this.roomWaiter !== null);
  }
}
