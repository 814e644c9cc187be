/**
 * Was a sandboxed command stopped by its sandbox? The reference's heuristic,
 * so orchestrators see the same `sandboxDenied`: a clean exit never is; words
 * a denial prints are; usage/not-found exits are not; on Linux a SIGSYS death
 * (seccomp) is.
 */
const DENIAL_WORDS = [
  "operation not permitted",
  "permission denied",
  "read-only file system",
  "seccomp",
  "sandbox",
  "landlock",
  "failed to write file",
];
/** Exit codes that mean "usage error / cannot execute / not found", not a denial. */
const NOT_DENIAL_CODES = new Set([2, 126, 127]);
/** 128 + SIGSYS: what a seccomp kill looks like. */
const SIGSYS_EXIT = 128 + 31;
/** How much of the newest output is searched for the words (the reference's retention). */
export const DENIAL_SCAN_BYTES = 1024 * 1024;

export function looksDenied(exitCode: number, output: string, platform = process.platform): boolean {
  if (exitCode === 0) return false;
  const text = output.toLowerCase();
  if (DENIAL_WORDS.some((w) => text.includes(w))) return true;
  if (NOT_DENIAL_CODES.has(exitCode)) return false;
  return platform === "linux" && exitCode === SIGSYS_EXIT;
}
