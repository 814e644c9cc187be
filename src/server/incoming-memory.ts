/**
 * Memory for large incoming messages, shared by every connection: how many
 * may be in flight at once (`IncomingBudget`), and giving their memory back
 * once they are handled (`Reclaimer`).
 */
import { RECLAIM_AFTER_BYTES, RECLAIM_AFTER_SENT_BYTES, RECLAIM_DELAY_MS } from "./limits.ts";

/**
 * Bytes reserved by large messages being received or handled. A reservation
 * is taken whole when a message's first frame announces it (never grown), and
 * each one is completed by its own client's bytes alone, so waiting for room
 * cannot deadlock.
 */
export class IncomingBudget {
  private used = 0;
  private readonly waiters = new Set<() => void>();

  constructor(
    private readonly totalBytes: number,
    readonly reclaimer: Reclaimer,
  ) {}

  /** Reserves `bytes`, or returns false and calls `onRoom` once some is given back. */
  take(bytes: number, onRoom: () => void): boolean {
    if (this.used + bytes > this.totalBytes) {
      this.waiters.add(onRoom);
      return false;
    }
    this.used += bytes;
    return true;
  }

  give(bytes: number): void {
    if (bytes === 0) return;
    this.used -= bytes;
    // Everyone waiting tries again; those that still do not fit wait again.
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const wake of waiters) wake();
  }

  /** A waiter whose connection went away. */
  forget(onRoom: () => void): void {
    this.waiters.delete(onRoom);
  }
}

/**
 * Runs a full garbage collection after large messages. Their text, parsed
 * strings and decoded bytes are garbage once handled, but JSC collects only
 * when more is allocated: an executor that went quiet after 170 MiB of
 * 4–15 MiB messages held ~90 MiB of it for over 10 s (measured). Collecting
 * after every `RECLAIM_AFTER_BYTES` handled bounds the pile under a stream of
 * them, and `RECLAIM_DELAY_MS` after the last one gives it back when they stop.
 */
export class Reclaimer {
  private pending = 0;
  private sentBytes = 0;
  private timer: Timer | null = null;

  constructor(private readonly collect: () => void = collectGarbage) {}

  /** A large message of `bytes` has been handled: its memory is garbage now. */
  handled(bytes: number): void {
    this.pending += bytes;
    this.schedule(this.pending >= RECLAIM_AFTER_BYTES ? 0 : RECLAIM_DELAY_MS);
  }

  /**
   * Bytes of outgoing byte frames (process output, file reads). Each leaves a
   * read buffer and, while the client is slower, copies; without a collection
   * every `RECLAIM_AFTER_SENT_BYTES` a stalled-then-draining client drove
   * the peak 4–6 MiB above the reference's (measured).
   */
  sent(bytes: number): void {
    this.sentBytes += bytes;
    if (this.sentBytes < RECLAIM_AFTER_SENT_BYTES) return;
    this.sentBytes = 0;
    this.schedule(0);
  }

  /** From a timer, so the frames that handled the bytes have unwound and hold nothing. */
  private schedule(delay: number): void {
    if (this.timer !== null && delay > 0) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.pending = 0;
      this.collect();
    }, delay);
    this.timer.unref();
  }
}

function collectGarbage(): void {
  // The last regular expression's subject stays reachable (the legacy
  // `RegExp.input`), and that may be a whole 16 MiB message — or a short
  // slice of one, which keeps all of it. A match on "" replaces it.
  /(?:)/.exec("");
  Bun.gc(true);
}
