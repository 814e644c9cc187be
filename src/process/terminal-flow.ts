/**
 * Stopping a PTY child's output while its client is not reading. Bun reads a
 * PTY by callback and cannot be told to stop, so a child streaming into a
 * PTY whose client stops reading would otherwise be buffered without bound;
 * stopping the terminal makes the child block on its next write, as on a
 * full pipe.
 *
 * Linux: `ioctl(TCXONC, TCOOFF / TCOON)` on the child's terminal (reopened
 * through /proc/<pid>/fd/0): synchronous, no termios flag touched, no byte
 * written, and a ^Q typed by the client cannot restart it. Elsewhere, or if
 * that terminal cannot be opened: termios flow control — IXON on (and IXANY
 * off) while paused, STOP, then START and the program's own flags back 100 ms
 * later, unless it changed them meanwhile. (That fallback can let a program
 * that looks at its flags right after resuming see IXON, and turns a ^S/^Q
 * the client types meanwhile into flow control.)
 */
import { closeSync, constants, openSync } from "node:fs";
import { openLibc } from "../platform/libc.ts";

export type TerminalFlow = { pause(): void; resume(): void; /** The child exited: let go of its terminal. */ childExited(): void };

/** termios input flags (Linux; macOS numbers IXON differently). */
const IXON = process.platform === "darwin" ? 0x200 : 0x400;
const IXANY = 0x800;
const STOP = "\x13";
const START = "\x11";
/**
 * How long after START the program's own flags come back (fallback only).
 * The kernel reads what is written to a terminal from a work queue, within
 * microseconds; flags restored before START is read would make START input.
 */
const FLAGS_RESTORE_DELAY_MS = 100;

/** ioctl numbers (asm-generic: the same on x86-64 and arm64). */
const TCXONC = 0x540a;
const TCOOFF = 0;
const TCOON = 1;
const SYS_IOCTL = process.arch === "arm64" ? 29 : 16;

export function terminalFlow(terminal: Bun.Terminal, childPid: number): TerminalFlow {
  const fallback = termiosFlow(terminal);
  let slave = openOutputSwitch(childPid);
  let stoppedBySwitch = false;
  return {
    pause() {
      if (stoppedBySwitch || terminal.closed) return;
      if (slave?.set(TCOOFF)) stoppedBySwitch = true;
      else fallback.pause();
    },
    resume() {
      if (!stoppedBySwitch) return fallback.resume();
      stoppedBySwitch = false;
      slave?.set(TCOON);
    },
    childExited() {
      // Our descriptor on the terminal would keep it from ever reaching EOF; grandchildren get the fallback.
      if (stoppedBySwitch) slave?.set(TCOON);
      stoppedBySwitch = false;
      slave?.close();
      slave = null;
    },
  };
}

/** The child's terminal, opened anew by the executor, to stop and start its output; null where that is not possible. */
function openOutputSwitch(pid: number): { set(action: number): boolean; close(): void } | null {
  if (process.platform !== "linux") return null;
  let fd: number;
  try {
    fd = openSync(`/proc/${pid}/fd/0`, constants.O_RDWR | constants.O_NOCTTY | constants.O_NONBLOCK);
  } catch {
    return null;
  }
  const libc = openLibc();
  const set = (action: number) => libc.syscall(SYS_IOCTL, fd, TCXONC, action) === 0;
  // TCOON on a running terminal changes nothing; failing, this is not a terminal (or not ours to drive).
  if (!set(TCOON)) {
    closeSync(fd);
    return null;
  }
  return { set, close: () => closeSync(fd) };
}

function termiosFlow(terminal: Bun.Terminal): { pause(): void; resume(): void } {
  /** The flags execbox set over the program's, while they are in force. */
  let own: { before: number; set: number } | null = null;
  let stopped = false;
  let restoreTimer: Timer | undefined;
  const restore = () => {
    clearTimeout(restoreTimer);
    if (own && !terminal.closed && terminal.inputFlags === own.set) terminal.inputFlags = own.before;
    own = null;
  };
  return {
    pause() {
      if (stopped || terminal.closed) return;
      clearTimeout(restoreTimer);
      if (!own) {
        const before = terminal.inputFlags;
        const set = (before | IXON) & ~IXANY;
        if (set !== before) {
          terminal.inputFlags = set;
          own = { before, set };
        }
      }
      terminal.write(STOP);
      stopped = true;
    },
    resume() {
      if (!stopped) return;
      stopped = false;
      if (terminal.closed) return void (own = null);
      terminal.write(START);
      // The terminal takes written bytes in asynchronously; flags changed at once could turn START into input.
      if (own) restoreTimer = setTimeout(restore, FLAGS_RESTORE_DELAY_MS);
    },
  };
}
