/**
 * execbox speaks the newest reference's protocol (src/version.ts). Against an
 * older reference, what the newer one added is set aside in execbox's
 * transcript, so the run shows drift rather than the version gap; each
 * addition is named here, with the version that brought it.
 */

import { HTTP_169 } from "./expected.ts";

/** Additions of 0.171.0 over 0.169.0, as rendered transcript text. */
const ADDED_IN_0_171: [RegExp, string][] = [
  // environmentInfo.capabilities gained a key (normalized to "<boolean>").
  [/"networkProxyTransparentTcp":"<boolean>",/g, ""],
  // Spawn failures gained `data: {kind}`.
  [/"data":\{"kind":"spawn(NotFound|PermissionDenied|Failed)"\},/g, ""],
];

/** Scenarios whose whole point is a 0.171.0 behaviour, expected to differ from an older reference. */
const EXPECTED_BEFORE_0_171: Record<string, string> = {
  "probe/transparent-tcp-params": "0.169.0 does not know managedNetwork.transparentTcp and ignores it; execbox answers as 0.171.0 does",
  "shell-snapshot/refusals": "0.169.0 checks a shellSnapshot's scope before an empty argv; execbox checks in 0.171.0's order (argv first)",
  "probe/transparent-tcp-network-proxy": "0.169.0 does not know networkProxy.proxy.transparentTcp and runs the command; execbox answers as 0.171.0 does",
  "probe-gen/process/start-pty/sandbox":
    "0.169.0 cannot start a sandboxed PTY (`Unable to spawn codex-linux-sandbox because: Unable to resolve the PATH`); 0.171.0 and execbox start it",
  ...Object.fromEntries(
    [
      "http/request-buffered",
      "http/request-request-headers",
      "http/request-streamed",
      "http/request-wire-bytes",
      "http/request-redirect-bytes",
      "http/request-content-encoding",
    ].map((n) => [n, HTTP_169]),
  ),
};

export type VersionShim = {
  /** The transform for execbox's transcript lines. */
  shim: (line: string) => string;
  /** More expected differences for this reference version. */
  expected: Record<string, string>;
  /** What is set aside, for the run's header. */
  note: string | null;
};

export function shimFor(referenceVersion: string | null): VersionShim {
  if (referenceVersion === null || !olderThan(referenceVersion, "0.171.0")) return { shim: (l) => l, expected: {}, note: null };
  return {
    shim: (line) => ADDED_IN_0_171.reduce((l, [re, to]) => l.replace(re, to), line),
    expected: EXPECTED_BEFORE_0_171,
    note: `reference ${referenceVersion}: execbox's 0.171.0 additions (capability networkProxyTransparentTcp, spawn errors' data.kind) are set aside`,
  };
}

function olderThan(a: string, b: string): boolean {
  const [x, y] = [a, b].map((v) => v.split(".").map(Number));
  for (let i = 0; i < 3; i++) if (x![i] !== y![i]) return x![i]! < y![i]!;
  return false;
}
