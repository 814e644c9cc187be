/**
 * `shellSnapshotV2`: a login command (`/bin/bash -lc CMD` with a
 * `shellSnapshot` scope) runs the login profile once per scope. The first
 * command of a scope captures the shell (shell-snapshot-capture.ts); it and
 * every later one run as `bash -pc PRELUDE+CMD` with the restore script on
 * descriptor 16 and the captured environment, the request's `env` overlay
 * winning over it. A failed capture runs the command as sent.
 *
 * Unlike the reference, the environment restored never holds what the
 * request's own policy would not give it: names its `envPolicy` excludes (or
 * `includeOnly` leaves out) are dropped, and values that only the capturing
 * request's `env` overlay supplied are not carried to later commands (the
 * reference restores both, a secret passed to one command included).
 */
import { createHash } from "node:crypto";
import { invalidParams } from "../protocol/errors.ts";
import type { EnvPolicy, ProcessStartParams } from "../protocol/messages/process.ts";
import { policyFilters } from "./env-policy.ts";
import { type Capture, type CaptureLimits, type CaptureSpec, captureShell } from "./shell-snapshot-capture.ts";
import type { CapturedShell } from "./shell-snapshot-script.ts";

/** The reference's bound on a scope id, in UTF-8 bytes. */
export const SHELL_SNAPSHOT_SCOPE_MAX_BYTES = 256;
/** Shells the reference snapshots; another name on a login command is refused. */
const SNAPSHOT_SHELLS = ["bash", "zsh", "sh"];

export type SnapshotRequest = { scopeId: string; shellPath: string };

/**
 * The snapshot a start asks for, or null to run it as sent. Checked as the
 * reference checks it: the scope on every start that carries one, the shell
 * name only on a login command (`<shell.path> -lc CMD [ARGS…]`). zsh and sh
 * login commands are valid but run as sent: execbox snapshots bash only.
 */
export function snapshotRequest(params: ProcessStartParams): SnapshotRequest | null {
  const req = params.shellSnapshot;
  if (!req) return null;
  const scopeBytes = Buffer.byteLength(req.scopeId);
  if (scopeBytes === 0 || scopeBytes > SHELL_SNAPSHOT_SCOPE_MAX_BYTES) {
    throw invalidParams(`shell snapshot scope must be non-empty and at most ${SHELL_SNAPSHOT_SCOPE_MAX_BYTES} bytes`);
  }
  const argv = params.argv;
  if (argv.length < 3 || argv[0] !== req.shell.path || argv[1] !== "-lc") return null;
  if (!SNAPSHOT_SHELLS.includes(req.shell.name)) throw invalidParams(`shell snapshots are unsupported for shell \`${req.shell.name}\``);
  return req.shell.name === "bash" ? { scopeId: req.scopeId, shellPath: req.shell.path } : null;
}

/**
 * One snapshot per scope, shell, sandbox and policy environment (what the
 * profile runs with, as the reference keys it: a command whose policy yields
 * another environment captures afresh). Only a digest is kept, never values.
 */
export function snapshotKey(req: SnapshotRequest, policyEnv: Record<string, string>, sandbox: unknown): string {
  const h = createHash("sha256");
  h.update(JSON.stringify([req.shellPath, sandbox ?? null, Object.entries(policyEnv).sort(([a], [b]) => (a < b ? -1 : 1))]));
  return `${req.scopeId}\0${h.digest("hex")}`;
}

/**
 * The command's environment: the captured one without what the request's
 * policy drops, then the request's overlay on top.
 */
export function restoredEnv(captured: Record<string, string>, policy: EnvPolicy | null | undefined, overlay: Record<string, string>): Record<string, string> {
  const filters = policy ? policyFilters(policy) : null;
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(captured)) {
    if (filters && (filters.excluded(k) || filters.notIncluded(k))) continue;
    env[k] = v;
  }
  return Object.assign(env, overlay);
}

/** Drops what the capturing request's overlay alone put in the captured environment (unchanged by the profile). */
function withoutOverlay(shell: CapturedShell, overlay: Record<string, string>): CapturedShell {
  const env = { ...shell.env };
  for (const [k, v] of Object.entries(overlay)) if (env[k] === v) delete env[k];
  return { script: shell.script, env };
}

export type SnapshotLimits = {
  /** Snapshots (and remembered failures) kept at once, least recently used dropped first. */
  maxEntries: number;
  /** Bytes of scripts and environments kept at once. */
  maxTotalBytes: number;
  /** A snapshot older than this is captured afresh (the profile may have changed). */
  maxAgeMs: number;
  /** After a failed capture, the scope's commands run as sent this long before one tries again. */
  retryAfterFailureMs: number;
  capture: CaptureLimits;
};

type Entry =
  | { kind: "pending"; done: Promise<CapturedShell | null> }
  | { kind: "ready"; shell: CapturedShell; bytes: number; at: number }
  | { kind: "failed"; at: number };

/** The capture a start needs, planned only if a capture runs; `release` frees the sandbox plan after it. */
export type CapturePlan = () => CaptureSpec & { overlay: Record<string, string>; release?: () => void };

export class ShellSnapshots {
  /** In least-recently-used order: a hit moves its entry to the end. */
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;

  constructor(
    private readonly limits: SnapshotLimits,
    private readonly now: () => number,
    private readonly capture: Capture = captureShell,
    readonly log: (line: string) => void = (line) => process.stderr.write(`execbox: ${line}\n`),
  ) {}

  /**
   * The scope's snapshot, capturing it if there is none. Concurrent starts of
   * one key share a single capture (the later ones wait for it), so the
   * profile runs once. Null: capture failed (recently), run as sent.
   */
  get(key: string, plan: CapturePlan): Promise<CapturedShell | null> {
    const entry = this.fresh(key);
    if (entry?.kind === "pending") return entry.done;
    if (entry?.kind === "failed") return Promise.resolve(null);
    if (entry?.kind === "ready") {
      this.entries.delete(key);
      this.entries.set(key, entry);
      return Promise.resolve(entry.shell);
    }
    const done = this.run(key, plan);
    this.entries.set(key, { kind: "pending", done });
    return done;
  }

  get size(): number {
    return this.entries.size;
  }

  get totalBytes(): number {
    return this.bytes;
  }

  /** The key's entry unless it is past its age (then it is dropped). */
  private fresh(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (!entry || entry.kind === "pending") return entry;
    const ttl = entry.kind === "ready" ? this.limits.maxAgeMs : this.limits.retryAfterFailureMs;
    if (this.now() - entry.at < ttl) return entry;
    this.drop(key);
    return undefined;
  }

  private async run(key: string, plan: CapturePlan): Promise<CapturedShell | null> {
    let spec: ReturnType<CapturePlan> | undefined;
    try {
      spec = plan();
      const shell = withoutOverlay(await this.capture(spec, this.limits.capture), spec.overlay);
      const bytes = sizeOf(shell);
      this.entries.set(key, { kind: "ready", shell, bytes, at: this.now() });
      this.bytes += bytes;
      this.evict();
      return shell;
    } catch (e) {
      // The reference's log line; the command runs as sent.
      this.log(`failed to capture shell snapshot: ${(e as Error).message}`);
      this.entries.set(key, { kind: "failed", at: this.now() });
      this.evict();
      return null;
    } finally {
      spec?.release?.();
    }
  }

  /** Drops the least recently used settled entries until the counts fit. */
  private evict(): void {
    for (const [key, entry] of this.entries) {
      if (this.entries.size <= this.limits.maxEntries && this.bytes <= this.limits.maxTotalBytes) return;
      if (entry.kind !== "pending") this.drop(key);
    }
  }

  private drop(key: string): void {
    const entry = this.entries.get(key);
    if (entry?.kind === "ready") this.bytes -= entry.bytes;
    this.entries.delete(key);
  }
}

function sizeOf(shell: CapturedShell): number {
  let n = Buffer.byteLength(shell.script);
  for (const [k, v] of Object.entries(shell.env)) n += Buffer.byteLength(k) + Buffer.byteLength(v) + 2;
  return n;
}
