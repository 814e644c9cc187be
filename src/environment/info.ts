/**
 * `environment/info`: what the executor's host looks like to a client. Built
 * from the executor's own environment, passed in so tests can vary it.
 */
import { realpathSync } from "node:fs";
import { basename, delimiter, join, resolve } from "node:path";
import type { Capabilities, EnvironmentInfo } from "../protocol/messages/environment.ts";
import { EXTENSIONS } from "../protocol/extensions.ts";
import { isExecutable } from "../platform/files.ts";
import { toPathUri } from "../protocol/path-uri.ts";
import { PROTOCOL_VERSION, VERSION } from "../version.ts";

/**
 * Only what execbox really implements is `true`; clients skip features flagged
 * `false`. The sandbox-backed flags are decided per host (HostCapabilities).
 */
export const CAPABILITIES: Capabilities = {
  networkProxyLaunch: true,
  networkProxyReviewDomains: true,
  networkProxyTransparentTcp: false,
  credentialMasking: true,
  credentialMaskingCustomProviders: true,
  capabilityDiscoverySandbox: false,
  fsWatchMissing: true,
  capabilityDiscoveryV2: true,
  environmentConfigRead: true,
  httpHeaderEnvVars: true,
  sandboxedFileStreaming: false,
  fileWriteStreaming: true,
  shellSnapshotV2: true,
  windowsMxc: false,
  linuxRootWritePreservesDevices: false,
  linuxApprovedRootWritePreservesRestrictions: false,
};

const KNOWN_SHELLS = ["bash", "zsh", "sh", "fish", "dash", "ksh", "powershell", "pwsh", "cmd"];

/** An opaque, stable identity of this build. */
export const PROVIDER_ID = `sha256:${new Bun.CryptoHasher("sha256").update(`execbox ${VERSION}`).digest("hex")}`;

export function platformOs(): string {
  return process.platform === "darwin" ? "macos" : process.platform === "win32" ? "windows" : process.platform;
}

/**
 * `capabilityDiscoverySandbox` and `sandboxedFileStreaming` need the sandboxed
 * fs helper under a policy that restricts reads: `true` only where bwrap can
 * run it on this host (fail closed: elsewhere a client is told up front,
 * rather than failing later).
 */
export function fsSandboxFlags(enforceable: boolean): Pick<Capabilities, "capabilityDiscoverySandbox" | "sandboxedFileStreaming"> {
  return { capabilityDiscoverySandbox: enforceable, sandboxedFileStreaming: enforceable };
}

/**
 * What this host's sandbox backend can enforce: `fsSandbox`, fs sandbox intent
 * (src/sandbox/intent.ts `fsSandboxEnforceable`); `rootWrite`, a writable `/`
 * with carve-outs (bubblewrap; see `enforcesRootWrite`).
 */
export type HostCapabilities = { fsSandbox: boolean; rootWrite: boolean };

export function environmentInfo(env: Record<string, string | undefined>, cwd: string, host: HostCapabilities = { fsSandbox: false, rootWrite: false }): EnvironmentInfo {
  const tmp = env.TMPDIR ? resolve(cwd, env.TMPDIR) : undefined;
  return {
    shell: detectShell(env),
    executorVersion: PROTOCOL_VERSION,
    providerId: PROVIDER_ID,
    cwd: cwdUri(cwd),
    ...(env.HOME ? { userHomeDir: toPathUri(env.HOME) } : {}),
    platformOs: platformOs(),
    prependPathDirs: [],
    temporaryDirectories: tmp ? [toPathUri(tmp)] : [],
    tempDir: toPathUri(tmp ?? "/tmp"),
    capabilities: {
      ...CAPABILITIES,
      ...fsSandboxFlags(host.fsSandbox),
      linuxRootWritePreservesDevices: host.rootWrite,
      linuxApprovedRootWritePreservesRestrictions: host.rootWrite,
    },
    extensions: { ...EXTENSIONS },
  };
}

/**
 * The cwd as a URI of its raw bytes, as the reference reports it: Bun's
 * process.cwd() shows a name that is not UTF-8 lossily (U+FFFD), so the
 * executor's own cwd is then read again as bytes.
 */
function cwdUri(cwd: string): string {
  if (!cwd.includes("\uFFFD") || cwd !== process.cwd()) return toPathUri(cwd);
  return toPathUri(realpathSync(".", { encoding: "buffer" }));
}

/** `$SHELL` when it names a usable known shell, else bash (then sh) from PATH. */
export function detectShell(env: Record<string, string | undefined>): { name: string; path: string } {
  const fromEnv = env.SHELL;
  if (fromEnv && KNOWN_SHELLS.includes(basename(fromEnv)) && isExecutable(fromEnv)) {
    return { name: basename(fromEnv), path: fromEnv };
  }
  for (const name of ["bash", "sh"]) {
    const found = which(name, env.PATH);
    if (found) return { name, path: found };
  }
  return { name: "sh", path: "/bin/sh" };
}

function which(name: string, path: string | undefined): string | undefined {
  for (const dir of (path ?? "").split(delimiter)) {
    if (dir && isExecutable(join(dir, name))) return join(dir, name);
  }
  return undefined;
}
