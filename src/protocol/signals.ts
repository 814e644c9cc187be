/**
 * Extension `signals`: `process/signal` takes any POSIX signal name besides
 * the reference's `interrupt`, spelled as `kill -s` takes it (`TERM`) or as
 * C and Node spell it (`SIGTERM`); both mean the same signal. Upper case
 * only, as POSIX writes them. Sent, like `interrupt`, to the process's
 * whole process group.
 */

/**
 * The names accepted: POSIX's signals (2017 edition) that Linux and macOS
 * both have, plus WINCH (not in POSIX, but every terminal program handles
 * it). Not accepted: POLL (obsolescent, absent on macOS), real-time signals
 * (numbered, not named), and platform-only names (PWR, STKFLT, INFO).
 */
export const SIGNAL_NAMES = [
  "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2", "PIPE", "ALRM", "TERM",
  "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG", "XCPU", "XFSZ", "VTALRM", "PROF", "SYS", "WINCH",
] as const;
export type SignalName = (typeof SIGNAL_NAMES)[number];

/** The wire values of `process/signal`'s `signal`: the reference's one, then every name in both spellings. */
export const SIGNAL_VALUES = ["interrupt", ...SIGNAL_NAMES, ...SIGNAL_NAMES.map((n) => `SIG${n}` as const)] as const;
export type SignalValue = (typeof SIGNAL_VALUES)[number];

/** The -32602 text for a value that is none of them. */
export function unknownSignal(value: string): string {
  return `unknown signal \`${value}\`: expected \`interrupt\` or a POSIX signal name, with or without the SIG prefix (upper case): ${SIGNAL_NAMES.join(", ")}`;
}

/** The signal to send, as the runtime names it. */
export function toSystemSignal(value: SignalValue): `SIG${SignalName}` {
  if (value === "interrupt") return "SIGINT";
  return value.startsWith("SIG") ? (value as `SIG${SignalName}`) : `SIG${value as SignalName}`;
}
