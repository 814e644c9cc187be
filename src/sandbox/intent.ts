/**
 * Sandbox intent on `process/start` and `fs/*`. execbox does not enforce
 * sandboxes yet, so it fails closed: a request that asks for restrictions
 * (a managed profile with a restricted file system or network, or
 * `enforceManagedNetwork`) is refused with a clear error instead of running
 * unsandboxed. Profiles that restrict nothing (`disabled`, `external` — applied
 * by the caller — or managed + unrestricted + network enabled) run as usual.
 */
import { invalidParams, invalidRequest } from "../protocol/errors.ts";

type Permissions = { type?: unknown; file_system?: { type?: unknown }; network?: unknown };

export function refuseUnenforceableSandbox(sandbox: unknown, enforceManagedNetwork = false): void {
  if (enforceManagedNetwork) {
    throw invalidRequest("enforceManagedNetwork needs a network sandbox, which this execbox build cannot enforce yet; refusing to run unsandboxed");
  }
  if (sandbox === null || sandbox === undefined) return;
  const permissions = (sandbox as { permissions?: Permissions }).permissions;
  if (typeof sandbox !== "object" || Array.isArray(sandbox) || typeof permissions?.type !== "string") {
    throw invalidParams("missing field `permissions`");
  }
  if (permissions.type === "disabled" || permissions.type === "external") return;
  const unrestricted = permissions.file_system?.type === "unrestricted" && permissions.network === "enabled";
  if (permissions.type === "managed" && unrestricted) return;
  throw invalidRequest(
    "this execbox build cannot enforce a managed sandbox yet (restricted file system or network requested); refusing to run unsandboxed",
  );
}
