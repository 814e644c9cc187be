/**
 * execbox's exit codes (README "Exit codes"). 1 and 2 are the reference's
 * (clap exits 2 on a malformed command line; `codex exec-server` exits 1 on
 * any other startup failure), so scripts written for it keep working.
 * `execbox exec` has its own (the remote command's code; see exec.ts).
 */
export const ExitCode = {
  /** Served until SIGINT/SIGTERM or end of input, then shut down cleanly. */
  ok: 0,
  /** A startup failure: an invalid value, a listener that cannot bind, a refused credential file, a registry failure. */
  failure: 1,
  /** A malformed command line: an unknown flag, a missing or unreadable value. */
  usage: 2,
  /** A failure execbox did not expect (a bug): one line on stderr, the stack only at `--log-level debug`. EX_SOFTWARE of sysexits.h. */
  internal: 70,
} as const;
