/**
 * Callers waiting for one condition to become true again. The one primitive
 * behind every "wait until …" in flow control (producer credit, the answer
 * backlog, request slots, a process's catch-up hold), so each is a question
 * (`undefined`: go on now) plus a wake-up, never an ad hoc promise list.
 */
export class Waiters {
  private waiting: (() => void)[] = [];

  /** Resolves at the next `wakeAll`. */
  wait(): Promise<void> {
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** `undefined` when `blocked` is false (go on now), else a wait. */
  unless(blocked: boolean): Promise<void> | undefined {
    return blocked ? this.wait() : undefined;
  }

  /** Wakes everyone waiting now; one that waits again lands in the list for next time. */
  wakeAll(): void {
    if (this.waiting.length === 0) return;
    const woken = this.waiting;
    this.waiting = [];
    for (const wake of woken) wake();
  }
}
