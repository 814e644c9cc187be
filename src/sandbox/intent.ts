/**
 * Sandbox intent on `fs/*`. Operations under a restricted file-system policy
 * must run in the sandboxed fs helper; this build has none yet, so they fail
 * closed instead of running with the server's full access. Profiles that do
 * not restrict the file system (`disabled`, `external`, unrestricted, the
 * whole disk writable) run directly, as the reference does.
 */
import { invalidParams } from "../protocol/errors.ts";
import type { SandboxContext } from "../protocol/messages/sandbox.ts";
import { CANNOT_ENFORCE } from "./launch.ts";
import { resolveSandbox } from "./policy.ts";

export function refuseSandboxedFs(sandbox: SandboxContext | null | undefined, cwd: string): void {
  const plan = resolveSandbox(sandbox, { cwd, env: {} });
  if (plan.kind === "enforce" && plan.view !== null) {
    throw invalidParams(`${CANNOT_ENFORCE}: fs/* under a restricted file-system policy needs the sandboxed fs helper, which this build does not have yet`);
  }
}
