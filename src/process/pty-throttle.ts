/**
 * A PTY cannot be left unread like a pipe (Bun reads it by callback): while
 * the consumer is backed up, the terminal's output is stopped instead, and
 * started again once the hold lifts (see terminal-flow.ts for how).
 */
export type OutputSwitch = { pauseOutput(): void; resumeOutput(): void };

export class PtyThrottle {
  private paused = false;

  constructor(private readonly terminal: OutputSwitch) {}

  /** After each PTY read: `hold` is the process's output hold (`undefined`: go on). */
  check(hold: Promise<void> | undefined): void {
    if (this.paused || !hold) return;
    this.paused = true;
    this.terminal.pauseOutput();
    void hold.then(() => {
      this.paused = false;
      this.terminal.resumeOutput();
    });
  }
}
