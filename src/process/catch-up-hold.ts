/**
 * The catch-up hold: while a client may not have seen all of a process's
 * retained output (its connection dropped, or it resumed but has not caught
 * up yet), output stops once the retained window is nearly full, so the child
 * blocks instead of output being evicted unread.
 */
import type { Clock } from "../server/clock.ts";
import { Waiters } from "../server/waiters.ts";

/**
 * While the hold is on, the pipes are not read once the retained output is
 * within this of full. One pipe read is at most this large.
 */
export const CATCH_UP_PAUSE_MARGIN_BYTES = 256 * 1024;
/**
 * After a resume, how long a client has to catch up with `process/read`
 * (reading up to the newest chunk ends the wait sooner). Clients that only
 * follow notifications (the Codex CLI) never read; their output resumes after this.
 */
export const CATCH_UP_GRACE_MS = 5_000;

export type ConnectionState = "detached" | "attached" | "ended";

export class CatchUpHold {
  private unreadMayBeLost = false;
  private cancelGrace: (() => void) | null = null;
  private readonly catchingUp = new Waiters();

  constructor(private readonly clock: Clock) {}

  /**
   * Connection state, told by the session: `detached` holds output that might
   * be unread; `attached` gives the client the grace period to catch up;
   * `ended` (no client will come) releases everything.
   */
  connectionChanged(state: ConnectionState): void {
    this.cancelGrace?.();
    this.cancelGrace = null;
    if (state === "detached") this.unreadMayBeLost = true;
    else if (state === "ended") this.caughtUp();
    else this.cancelGrace = this.clock.after(CATCH_UP_GRACE_MS, () => this.caughtUp());
  }

  /** `undefined` when output may go on with `freeBytes` left in the retained window, else a wait. */
  blocks(freeBytes: number): Promise<void> | undefined {
    return this.catchingUp.unless(this.unreadMayBeLost && freeBytes < CATCH_UP_PAUSE_MARGIN_BYTES);
  }

  /** A `process/read` reached the newest chunk: the client has caught up. */
  readReachedNewest(): void {
    if (this.unreadMayBeLost) this.caughtUp();
  }

  private caughtUp(): void {
    this.unreadMayBeLost = false;
    this.catchingUp.wakeAll();
  }
}
