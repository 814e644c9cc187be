/**
 * The shell side of `shellSnapshotV2`, byte for byte as the reference
 * (0.171.0, probed with strace) writes it: the capture script a login shell
 * runs once per scope, how its output is read back, and the prelude that
 * restores the captured state before a later command runs.
 */

/** The descriptor the restore script is read from (the reference's). */
export const SNAPSHOT_FD = 16;

/**
 * Run as `<shell> -lc CAPTURE_SCRIPT`: after the login profile, it prints a
 * marker (whether `/dev/fd/16` can be opened), then NUL-separated sections:
 * shopt and `declare -f`, `set -o` and `alias -p` (these two make one
 * restore script), an empty one, and `env -0`. Whatever the profile prints
 * itself comes before the marker and is ignored.
 */
export const CAPTURE_SCRIPT = [
  "if case '' in '') ;; esac 2>/dev/null </dev/fd/16; then printf '\\0%s\\0%s\\0' 'CODEX_SNAPSHOT_SOURCE' 1; else printf '\\0%s\\0%s\\0' 'CODEX_SNAPSHOT_SOURCE' 0; fi",
  "if [ -z \"${BASH_ENV-}\" ] && [ -n \"${HOME-}\" ] && [ -r \"$HOME/.bashrc\" ]; then",
  "  . \"$HOME/.bashrc\"",
  "fi",
  "echo '# Snapshot file'",
  "echo '# Unset all aliases to avoid conflicts with functions'",
  "echo 'unalias -a 2>/dev/null || true'",
  "shopt -p || true",
  "echo '# Functions'",
  "declare -f",
  "echo ''",
  "printf '{\\n'",
  "__codex_snapshot_command() {",
  "  if command -v \"$1\" >/dev/null 2>&1; then",
  "    \"$@\"",
  "  else",
  "    command -p \"$@\"",
  "  fi",
  "}",
  "bash_opts=$(set -o | __codex_snapshot_command awk '$2==\"on\"{print $1}')",
  "bash_opt_count=$(printf '%s\\n' \"$bash_opts\" | __codex_snapshot_command sed '/^$/d' | __codex_snapshot_command wc -l | __codex_snapshot_command tr -d ' ')",
  "echo \"# setopts $bash_opt_count\"",
  "if [ -n \"$bash_opts\" ]; then",
  "  printf 'set -o %s\\n' $bash_opts",
  "fi",
  "echo ''",
  "printf '\\0'",
  "alias_count=$(\\alias -p | __codex_snapshot_command wc -l | __codex_snapshot_command tr -d ' ')",
  "echo \"# aliases $alias_count\"",
  "\\alias -p",
  "echo ''",
  "printf \"case '' in '') ;; esac\\n}\\n\"",
  "printf '\\0'",
  "",
  "printf '\\0'",
  "if command -v env >/dev/null 2>&1; then",
  "  \"env\" -0",
  "else",
  "  # Resolve the fallback separately: Bash's command -p changes the utility's PATH.",
  "  \"$(PATH=\"$(command -p getconf PATH)\" command -v env)\" -0",
  "fi",
  "",
  ""
].join("\n");

const MARKER = "\0CODEX_SNAPSHOT_SOURCE\0";

/** What a capture yields: the restore script (no exports) and the login shell's environment. */
export type CapturedShell = { script: string; env: Record<string, string> };

/** Reads a capture's stdout; a string is why it cannot be used. */
export function parseCapture(out: string): CapturedShell | string {
  const at = out.lastIndexOf(MARKER);
  if (at < 0) return "the capture printed no snapshot marker";
  const rest = out.slice(at + MARKER.length);
  const [source, state, aliases, exports, ...envEntries] = rest.split("\0");
  if (source !== "1") return `/dev/fd/${SNAPSHOT_FD} cannot be read in this shell`;
  if (state === undefined || aliases === undefined || exports === undefined) return "the capture's output is truncated";
  const env: Record<string, string> = {};
  for (const entry of envEntries) {
    const eq = entry.indexOf("=");
    if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return { script: state + aliases, env };
}

/** What the restore descriptor holds: it closes itself first, so the command does not inherit it. */
export function restoreFileText(script: string): string {
  return `\\exec ${SNAPSHOT_FD}<&-\n${script}`;
}

/** The text failed restores print on the command's stderr (the reference's). */
export const RESTORE_FAILED = "failed to restore shell snapshot";

/**
 * `<shell> -lc CMD …` becomes `<shell> -pc PRELUDE+CMD …`: privileged mode
 * keeps the environment's functions, BASH_ENV and SHELLOPTS out while the
 * snapshot is sourced, then is switched off for the command itself.
 */
export function restoreArgv(argv: string[]): string[] {
  const prelude = `set +o privileged\nif ! . /dev/fd/${SNAPSHOT_FD} >/dev/null; then printf '${RESTORE_FAILED}\\n' >&2; fi\n`;
  return [argv[0]!, "-pc", prelude + argv[2]!, ...argv.slice(3)];
}
