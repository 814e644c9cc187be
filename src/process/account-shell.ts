import { readFileSync } from "node:fs";
import { isExecutable } from "../platform/files.ts";

/** The shell a PTY child is told about when its request sets no SHELL. */
export const FALLBACK_SHELL = "/bin/sh";

/**
 * The login shell of the account execbox runs as, from /etc/passwd, when it is executable;
 * else /bin/sh. The reference's PTY layer sets a PTY child's SHELL this way whatever the
 * executor's own $SHELL says (probed: SHELL unset, empty or naming a missing file all give
 * the passwd shell). The reference is a static musl binary, so /etc/passwd is its only source.
 */
export function accountShell(): string {
  return loginShellOrFallback(readPasswd(), process.getuid?.() ?? 0);
}

/** `uid`'s passwd shell when it is executable, else {@link FALLBACK_SHELL}. */
export function loginShellOrFallback(passwd: string | undefined, uid: number): string {
  const shell = passwd === undefined ? undefined : passwdShell(passwd, uid);
  return shell !== undefined && isExecutable(shell) ? shell : FALLBACK_SHELL;
}

/** The shell field of `uid`'s first line in passwd(5) text, if it has one. */
export function passwdShell(passwd: string, uid: number): string | undefined {
  for (const line of passwd.split("\n")) {
    const fields = line.split(":");
    if (fields.length >= 7 && fields[2] === String(uid)) return fields[6] || undefined;
  }
  return undefined;
}

function readPasswd(): string | undefined {
  try {
    return readFileSync("/etc/passwd", "utf8");
  } catch {
    return undefined;
  }
}
