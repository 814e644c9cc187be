/**
 * A process's `timeoutMs` and `idleTimeoutMs` (extension `timeouts`). When
 * one fires, the whole process group gets SIGTERM, then SIGKILL after
 * `TIMEOUT_KILL_GRACE_MS` unless all its output has closed by then (a
 * descendant that ignores TERM and holds a pipe is killed too). Told of
 * output, exit and close by its owner; signals through a callback.
 */
import { invalidParams } from "../protocol/errors.ts";
import type { TimedOut } from "../protocol/messages/process-timeouts.ts";
import type { Clock } from "../server/clock.ts";

/**
 * Largest `timeoutMs` / `idleTimeoutMs`: one week. Longer than any command an
 * agent waits for, and inside a timer's range (2^31 − 1 ms ≈ 24.8 days, past
 * which a timer fires at once). More is -32602 `timeoutMs must be between 1
 * and 604800000 milliseconds`.
 */
export const MAX_RUN_TIMEOUT_MS = 7 * 24 * 60 * 60 * 1000;
/** Smallest: 0 would mean "already timed out"; `null` or absent means no timeout. */
export const MIN_RUN_TIMEOUT_MS = 1;
/**
 * After SIGTERM, how long the process group has to exit and close its output
 * before SIGKILL: enough for a program to flush and remove its temp files, as
 * `timeout -k` or a service manager allows; short enough that a program
 * ignoring TERM frees its slot soon.
 */
export const TIMEOUT_KILL_GRACE_MS = 2_000;

export type RunTimeoutSpec = { timeoutMs?: number | null; idleTimeoutMs?: number | null };

/** Refuses an out-of-range timeout before anything starts (-32602). */
export function checkRunTimeouts(spec: RunTimeoutSpec): void {
  for (const name of ["timeoutMs", "idleTimeoutMs"] as const) {
    const ms = spec[name];
    if (ms != null && (ms < MIN_RUN_TIMEOUT_MS || ms > MAX_RUN_TIMEOUT_MS)) {
      throw invalidParams(`${name} must be between ${MIN_RUN_TIMEOUT_MS} and ${MAX_RUN_TIMEOUT_MS} milliseconds`);
    }
  }
}

export class RunTimeouts {
  /** Which timeout fired, once one has. */
  fired: TimedOut | null = null;
  private lastActivity: number;
  /** Consumer holds under way: output is not read, so silence says nothing about the child. */
  private holds = 0;
  private readonly cancels: (() => void)[] = [];

  constructor(
    private readonly spec: RunTimeoutSpec,
    private readonly clock: Clock,
    private readonly signalGroup: (signal: "SIGTERM" | "SIGKILL") => void,
  ) {
    this.lastActivity = clock.now();
    if (spec.timeoutMs != null) this.cancels.push(clock.after(spec.timeoutMs, () => this.fire("timeout")));
    if (spec.idleTimeoutMs != null) this.armIdle(spec.idleTimeoutMs);
  }

  /** Output was read: the idle clock starts again (checked when its timer fires, so a chunk costs no timer). */
  activity(): void {
    this.lastActivity = this.clock.now();
  }

  /**
   * The consumer is backed up until `wait` settles: the child's output is not
   * read meanwhile (it blocks on a full pipe), so that time is not idle.
   */
  held(wait: Promise<void>): void {
    this.holds++;
    void wait.then(() => {
      this.holds--;
      this.activity();
    });
  }

  private armIdle(ms: number): void {
    this.cancels.push(
      this.clock.after(ms, () => {
        if (this.holds > 0) this.activity();
        const left = this.lastActivity + this.spec.idleTimeoutMs! - this.clock.now();
        if (left > 0) this.armIdle(left);
        else this.fire("idle");
      }),
    );
  }

  private fire(reason: TimedOut): void {
    if (this.fired) return;
    this.fired = reason;
    this.stop();
    this.signalGroup("SIGTERM");
    this.cancels.push(this.clock.after(TIMEOUT_KILL_GRACE_MS, () => this.signalGroup("SIGKILL")));
  }

  /** The program exited: no timeout can fire any more (an escalation under way goes on until close). */
  exited(): void {
    if (!this.fired) this.stop();
  }

  /** Every stream closed: nothing is left to signal. */
  closed(): void {
    this.stop();
  }

  private stop(): void {
    for (const cancel of this.cancels.splice(0)) cancel();
  }
}
