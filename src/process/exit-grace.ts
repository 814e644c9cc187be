/**
 * Between the child's exit and the `exited` event: its output streams are
 * counted to their ends, the exit waits a moment for late output, and a
 * sandboxed exit is then classified for `sandboxDenied`.
 */
import { DENIAL_SCAN_BYTES, looksDenied } from "../sandbox/denial.ts";

/**
 * After the child exits, wait this long for its pipes to reach EOF before
 * announcing `exited`, so output the child wrote just before exiting gets the
 * lower seq (as clients expect) without holding `exited` back when a
 * grandchild keeps a pipe open.
 */
export const EXIT_OUTPUT_GRACE_MS = 25;

/** The child's output streams (two pipes, or one PTY) still open. */
export class OpenStreams {
  private open: number;
  private allDone!: () => void;
  /** Resolves once every stream has ended. */
  readonly done = new Promise<void>((r) => (this.allDone = r));

  constructor(count: number) {
    this.open = count;
  }

  get any(): boolean {
    return this.open > 0;
  }

  ended(): void {
    if (--this.open === 0) this.allDone();
  }
}

/** Resolves when every stream has ended or `EXIT_OUTPUT_GRACE_MS` has passed, whichever is first. */
export async function outputSettled(streams: OpenStreams): Promise<void> {
  let timer: Timer | undefined;
  await Promise.race([streams.done, new Promise((r) => (timer = setTimeout(r, EXIT_OUTPUT_GRACE_MS)))]);
  clearTimeout(timer);
}

/** Whether a sandboxed process's exit looks like its sandbox stopped it (classified once, from its newest output). */
export function classifyDenial(sandboxed: boolean, code: number, recentText: (maxBytes: number) => string): boolean {
  return sandboxed && looksDenied(code, recentText(DENIAL_SCAN_BYTES));
}
