/**
 * Extension `ptySize`: a PTY's size in character cells, chosen at
 * `process/start` (`size`) and changed by `process/resizePty` (the kernel
 * then sends SIGWINCH to the terminal's foreground process group).
 */
import { invalidParams } from "../protocol/errors.ts";

export type PtySize = { rows: number; cols: number };

/**
 * Largest `rows` a client may ask for. A terminal's sizes are 16-bit in the
 * kernel (struct winsize), and full-screen programs allocate rows × cols
 * cells: 4096 is well past any real screen (an 8K display at a 4-pixel font
 * is ~1080 rows), and 4096 × 4096 cells keeps such a buffer to tens of MiB.
 */
export const MAX_PTY_ROWS = 4096;
/** Largest `cols`: as `MAX_PTY_ROWS` (an 8K display at a 4-pixel-wide font is ~1900 columns). */
export const MAX_PTY_COLS = 4096;

/** -32602 unless both sizes are 1 … max (0 means "unknown" to programs, and would be a terminal nothing fits in). */
export function checkPtySize(size: PtySize): PtySize {
  if (size.rows < 1 || size.rows > MAX_PTY_ROWS || size.cols < 1 || size.cols > MAX_PTY_COLS) {
    throw invalidParams(`PTY size ${size.rows}x${size.cols} (rows x cols) is out of range: rows must be 1 to ${MAX_PTY_ROWS}, cols 1 to ${MAX_PTY_COLS}`);
  }
  return size;
}

/** `size` on `process/start`: for a terminal only, and within bounds. */
export function checkStartSize(params: { tty: boolean; size?: PtySize | null }): void {
  if (!params.size) return;
  if (!params.tty) throw invalidParams("`size` is only valid when `tty` is true: a pipe process has no terminal");
  checkPtySize(params.size);
}

/** `process/resizePty` on a pipe process. */
export function noTerminal(processId: string): string {
  return `process ${processId} has no terminal to resize: it was started with \`tty\` false`;
}
