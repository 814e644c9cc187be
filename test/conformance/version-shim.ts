/**
 * execbox speaks the newest reference's protocol (src/version.ts). Against an
 * older reference, what the newer one added is set aside in execbox's
 * transcript, so the run shows drift rather than the version gap; each
 * addition is named here, with the version that brought it.
 */
import { spawnSync } from "node:child_process";

/** Additions of 0.171.0 over 0.169.0, as rendered transcript text. */
const ADDED_IN_0_171: [RegExp, string][] = [
  // environmentInfo.capabilities gained a key (normalized to "<boolean>").
  [/"networkProxyTransparentTcp":"<boolean>",/g, ""],
  // Spawn failures gained `data: {kind}`.
  [/"data":\{"kind":"spawn(NotFound|PermissionDenied|Failed)"\},/g, ""],
];

/** The reference binary's version (`codex --version` prints `codex-cli X.Y.Z`), or null if it cannot say. */
export function binaryVersion(command: string[]): string | null {
  const out = spawnSync(command[0]!, ["--version"], { encoding: "utf8" });
  return /(\d+\.\d+\.\d+)/.exec(out.stdout ?? "")?.[1] ?? null;
}

/** The transform for execbox's transcript lines against `referenceVersion`, and what it sets aside (for the run's header). */
export function shimFor(referenceVersion: string | null): { shim: (line: string) => string; note: string | null } {
  if (referenceVersion === null || !olderThan(referenceVersion, "0.171.0")) return { shim: (l) => l, note: null };
  return {
    shim: (line) => ADDED_IN_0_171.reduce((l, [re, to]) => l.replace(re, to), line),
    note: `reference ${referenceVersion}: execbox's 0.171.0 additions (capability networkProxyTransparentTcp, spawn errors' data.kind) are set aside`,
  };
}

function olderThan(a: string, b: string): boolean {
  const [x, y] = [a, b].map((v) => v.split(".").map(Number));
  for (let i = 0; i < 3; i++) if (x![i] !== y![i]) return x![i]! < y![i]!;
  return false;
}
