/**
 * `process/read` long-polls and `whenClosed` callers: each waits for a
 * condition on the process to hold; every event (`wake`) re-checks them.
 */
import type { Clock } from "../server/clock.ts";

export class NewsWaiters {
  private readonly waiting = new Set<() => void>();

  constructor(private readonly clock: Clock) {}

  /** Something happened: every waiter re-checks its condition (and waits again if it still does not hold). */
  wake(): void {
    const waiting = [...this.waiting];
    this.waiting.clear();
    for (const check of waiting) check();
  }

  /** Settles once `holds()` is true after a `wake`, or after `waitMs` (the long-poll deadline), whichever is first. */
  until(holds: () => boolean, waitMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const finish = () => {
        this.waiting.delete(check);
        cancel();
        resolve();
      };
      const check = () => (holds() ? finish() : this.waiting.add(check));
      const cancel = this.clock.after(waitMs, finish);
      this.waiting.add(check);
    });
  }

  /** Settles once `holds()` is true (now or after some `wake`); no deadline. */
  whenever(holds: () => boolean): Promise<void> {
    if (holds()) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => (holds() ? resolve() : this.waiting.add(check));
      this.waiting.add(check);
    });
  }
}
