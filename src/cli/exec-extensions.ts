/**
 * What `execbox exec` does with the executor's extensions
 * (src/protocol/extensions.ts), and how it degrades without them (the
 * reference): local stdin EOF closes the command's stdin (`closeStdin`); a
 * PTY gets the local terminal's size at start and on every SIGWINCH
 * (`ptySize`).
 */
import type { ExecboxClient, RemoteProcess, TerminalSize } from "../client/index.ts";

/**
 * Without `closeStdin`, how long after local stdin ends the command must
 * still be running before the warning that it cannot see EOF is printed: a
 * command that does not read stdin has usually finished by then, so the
 * warning appears only when it may be waiting for input.
 */
export const STDIN_EOF_WARNING_DELAY_MS = 1_000;

export const STDIN_EOF_WARNING =
  "warning: stdin ended, but this executor cannot close the command's stdin (it lacks the closeStdin extension); a command reading stdin waits for more: stop it with Ctrl-C, or use --no-stdin";
export const NO_PTY_SIZE_NOTE = "note: this executor cannot size the command's terminal (it lacks the ptySize extension); it stays 24x80";

type Say = (text: string) => void;

/** The local terminal's size, when stdout is one. */
export function localTerminalSize(): TerminalSize | undefined {
  if (!process.stdout.isTTY) return undefined;
  // Asked anew each time: the cached rows/columns may not have caught up with a SIGWINCH yet.
  const [cols, rows] = process.stdout.getWindowSize?.() ?? [process.stdout.columns, process.stdout.rows];
  return rows > 0 && cols > 0 ? { rows, cols } : undefined;
}

/** `size` for `process/start`: the local terminal's, where the executor takes one (else a note, once). */
export function startSize(client: ExecboxClient, tty: boolean, say: Say): { size?: TerminalSize } {
  const size = tty ? localTerminalSize() : undefined;
  if (!size) return {};
  if (client.supports("ptySize")) return { size };
  if (size.rows !== 24 || size.cols !== 80) say(NO_PTY_SIZE_NOTE);
  return {};
}

/** Sends the local size on every SIGWINCH (PTY with `ptySize` only); returns the undo. */
export function followTerminalSize(client: ExecboxClient, proc: RemoteProcess, tty: boolean): () => void {
  if (!tty || !client.supports("ptySize") || !process.stdout.isTTY) return () => {};
  const onWinch = () => {
    const size = localTerminalSize();
    if (size) void proc.resize(size).catch(() => {});
  };
  process.on("SIGWINCH", onWinch);
  return () => void process.off("SIGWINCH", onWinch);
}

/**
 * Local stdin reached EOF: close the command's stdin, or (no `closeStdin`)
 * warn once if it is still running a moment later, so a user whose command
 * waits for input knows why instead of facing a silent hang.
 */
export async function forwardStdinEnd(client: ExecboxClient, proc: RemoteProcess, say: Say): Promise<void> {
  if (client.supports("closeStdin")) {
    await proc.closeStdin();
    return;
  }
  let timer: Timer | undefined;
  const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), STDIN_EOF_WARNING_DELAY_MS)));
  const stillRunning = await Promise.race([late, proc.closed.then(() => false, () => false)]);
  clearTimeout(timer);
  if (stillRunning) say(STDIN_EOF_WARNING);
}
