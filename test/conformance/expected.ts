/**
 * Differences each leg expects between the reference and execbox, by
 * scenario or check name, each with its reason (README: "Differences from
 * the reference, on purpose", "Remote mode"). The run prints them with their
 * reasons; a difference not listed is drift and is reported as unexpected
 * (and fails --strict).
 */
import type { LegResult } from "./compare.ts";

const PTY_CWD =
  "a PTY process whose cwd is missing or not a directory is refused with the OS error, as a pipe process is on both; the reference silently runs it in $HOME instead (a command meant for one directory must not run in another)";

export const HTTP_169 =
  "against 0.169.0 only: execbox follows 0.171.0, which offers `accept-encoding: zstd,gzip` and decodes gzip/zstd bodies (dropping content-encoding and content-length); 0.169.0 offers no encoding and passes bodies through";

const SIGNALS_EXTENSION =
  "extension `signals` (src/protocol/signals.ts): `process/signal` also takes POSIX signal names (`INT`, `SIGINT`, …), and an unknown name's -32602 lists them instead of serde's `unknown variant … expected \`interrupt\``; `interrupt` and every other error are the reference's";

export const WS_EXPECTED: Record<string, string> = {
  "process/signal-params": SIGNALS_EXTENSION,
  "probe-gen/process/signal/signal": SIGNALS_EXTENSION,
  "process/signal-interrupt": "a PTY process stopped by `interrupt` reports 130, the shell's convention, as pipe processes do on both (the reference reports 1 for a PTY)",
  "process/terminate": "a PTY process killed by process/terminate reports 137, the shell's convention (the reference reports 1 for a PTY)",
  "fs/copy-files-and-links": "a file copied onto itself is left alone (the reference truncates it to zero bytes)",
  "probe/copy-dir-onto-existing-collisions":
    "a FIFO at an fs/copy destination is refused (-32600) instead of opened for writing, which blocks the reference's request (and the connection's only request slot) for good",
  ...Object.fromEntries(
    ["probe-gen/process/start-pipe/arg0", "probe-gen/process/start-pty/arg0"].map((n) => [
      n,
      "an empty arg0 is not passed on: Bun's spawn treats `argv0: \"\"` as absent, so the child's $0 is the program (the reference gives an empty argv[0]); every other arg0 matches",
    ]),
  ),
  "probe/lookup-empty-path-entry":
    "a pipe child found through an empty PATH entry (the cwd) is exec'd as `./name`, so the runtime does not search PATH again; a script's $0 shows `./name` where the reference's shows `name`",
  "probe-gen/process/start-pty/argv#too-long":
    "a PTY command with an argument past the kernel's 128 KiB limit is refused with `Argument list too long (os error 7)`, as a pipe command is on both; the reference answers a started process that exits 1 printing `fatal runtime error: assertion failed: output.write(&bytes).is_ok()` (its child fails to exec and to report why)",
  ...Object.fromEntries(
    ["probe/missing-cwd-pipe-and-pty", "probe/pty-missing-cwd-falls-back-to-home", "probe/cwd-is-a-file", "probe-gen/process/start-pty/cwd#not-a-directory"].map((n) => [
      n,
      PTY_CWD,
    ]),
  ),
};

const STREAM_FATAL =
  "a message that is not JSON-RPC is answered -32600 (id -1) and the stream stays open, as over WebSocket; the reference resets the Noise stream (remote.md §5.8)";

export const REMOTE_EXPECTED: Record<string, string> = {
  ...WS_EXPECTED,
  "envelope/malformed-json": `${STREAM_FATAL}; an empty message cannot be framed at all, so none is sent`,
  "envelope/non-object-json": STREAM_FATAL,
  "envelope/not-a-message": STREAM_FATAL,
  "envelope/request-ids": `${STREAM_FATAL} (an id that is not an i64 or a string)`,
  "relay: validate HTTP 401 → message 2 with the rejection marker":
    "after message 2 with the rejection marker execbox resets the stream it will never activate, so the harness and the rendezvous can let it go; the reference sends nothing more",
};

/** The leg's summary: the count line, then the expected differences with their reasons, then any other (drift). Returns how many are drift. */
export function printLegSummary(label: string, total: number, result: LegResult, expected: Record<string, string>): number {
  const known = result.differing.filter((n) => expected[n]);
  const drift = result.differing.filter((n) => !expected[n]);
  const d = result.differing.length;
  console.log(`${label}: ${total} scenarios, ${total - d} same, ${d} differ (${known.length} expected, ${drift.length} unexpected)`);
  for (const n of known) console.log(`  expected: ${n} — ${expected[n]}`);
  if (drift.length) console.log(`differing (unexpected): ${drift.join(", ")}`);
  return drift.length;
}
