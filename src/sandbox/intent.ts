/**
 * Sandbox intent on `fs/*`: which requests must run in the sandboxed fs
 * helper. Profiles that leave the file system unrestricted (`disabled`,
 * `external`, unrestricted, the whole disk writable) run directly, as the
 * reference does; a restricted one runs them in the helper (src/fs/sandboxed.ts).
 */
import { invalidParams } from "../protocol/errors.ts";
import type { SandboxContext } from "../protocol/messages/sandbox.ts";
import { chooseBackend } from "./backend.ts";
import { CANNOT_ENFORCE, type SandboxHost } from "./launch.ts";
import { type FsView, dependsOnCwd, resolveSandbox } from "./policy.ts";

/** Where fs intent is resolved: the executor's cwd and environment (the server context's, not `process.env`). */
export type FsIntentScope = { cwd: string; env: Record<string, string | undefined> };

/** The view an fs request must run under, or null to run it directly. */
export function sandboxedFsView(sandbox: SandboxContext | null | undefined, scope: FsIntentScope): FsView | null {
  if (sandbox) requireCwdForDynamicEntries(sandbox);
  const plan = resolveSandbox(sandbox, { cwd: scope.cwd, env: scope.env as Record<string, string> });
  if (plan.kind !== "enforce" || plan.view === null) return null;
  if (process.platform !== "linux") throw invalidParams(`${CANNOT_ENFORCE}: no fs sandbox for ${process.platform} in this build`);
  return plan.view;
}

/**
 * Can this host run the fs helper under a policy that restricts reads
 * (capabilityDiscoverySandbox, sandboxedFileStreaming): Linux with bwrap
 * (probed once, cached). Not Landlock: there the helper, a Bun process, aborts
 * when it may read only the granted trees (it starts only with the whole disk
 * readable), and the reference needs bubblewrap for restricted reads too.
 */
export function fsSandboxEnforceable(host: SandboxHost): boolean {
  return process.platform === "linux" && chooseBackend(host.backend, host.searchPath).kind === "bwrap";
}

/** Throws the request's error for a sandbox that is malformed or cannot be enforced here (nothing runs). */
export function checkSandbox(sandbox: SandboxContext | null | undefined, scope: FsIntentScope): void {
  sandboxedFsView(sandbox, scope);
}

/** The reference's rule: entries that depend on the cwd need one in the context. */
function requireCwdForDynamicEntries(sandbox: SandboxContext): void {
  const p = sandbox.permissions;
  if (p.type !== "managed" || p.file_system.type !== "restricted") return;
  if (p.file_system.entries.some(dependsOnCwd) && !(sandbox.policyContext?.cwd ?? sandbox.cwd)) {
    throw invalidParams("file system sandbox context with dynamic permissions requires cwd");
  }
}
