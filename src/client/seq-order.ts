/**
 * Puts numbered events back in order. The executor numbers each process's
 * output, `exited` and `closed` with one counter (and each HTTP body stream
 * from 1), but the wire may deliver them out of order, and after a reconnect
 * the same seq can arrive twice: once from a catch-up `process/read` and once
 * pushed. Events are delivered strictly in seq order, each exactly once.
 */

/** Fills a seq that carries nothing to deliver (part of an already-reported gap). */
export const SKIP = Symbol("skip");

export class SeqOrder<E extends { seq: number }> {
  /** Highest seq delivered; everything at or below it was delivered once. */
  delivered: number;
  private readonly pending = new Map<number, E | typeof SKIP>();

  constructor(
    private readonly deliver: (event: E) => void,
    firstSeq = 1,
  ) {
    this.delivered = firstSeq - 1;
  }

  /** Accepts an event; duplicates (delivered or already waiting) are ignored. */
  push(event: E): void {
    if (event.seq <= this.delivered || this.pending.has(event.seq)) return;
    this.pending.set(event.seq, event);
    this.drain();
  }

  /** Fills a hole with a synthesized event or `SKIP`, then delivers what became contiguous. */
  fill(seq: number, event: E | typeof SKIP): void {
    if (seq <= this.delivered || this.pending.has(seq)) return;
    this.pending.set(seq, event);
    this.drain();
  }

  /** True if `seq` was delivered or is waiting. */
  has(seq: number): boolean {
    return seq <= this.delivered || this.pending.has(seq);
  }

  /** Waiting events matching a predicate (e.g. "is an exit event buffered?"). */
  someWaiting(pred: (event: E) => boolean): boolean {
    for (const e of this.pending.values()) if (e !== SKIP && pred(e)) return true;
    return false;
  }

  /** Seqs after the delivered point and below `end` that nothing has filled. */
  holesBelow(end: number): number[] {
    const holes: number[] = [];
    for (let s = this.delivered + 1; s < end; s++) if (!this.pending.has(s)) holes.push(s);
    return holes;
  }

  private drain(): void {
    for (;;) {
      const next = this.pending.get(this.delivered + 1);
      if (next === undefined) return;
      this.pending.delete(this.delivered + 1);
      this.delivered++;
      if (next !== SKIP) this.deliver(next);
    }
  }
}
