/**
 * A process start's managed network (`networkProxy`): the executor's CA when
 * it asks for credential masking, the process's own proxies, and the start a
 * shell-snapshot capture runs as instead. The proxies themselves are
 * src/network/.
 */
import { startManagedProxy } from "../network/managed-proxy.ts";
import { type MitmAuthority, executorAuthority } from "../network/mitm/authority.ts";
import { invalidParams } from "../protocol/errors.ts";
import type { ProcessStartParams } from "../protocol/messages/process.ts";
import { CANNOT_ENFORCE } from "../sandbox/launch.ts";
import type { ProcessEventSink } from "./managed-process.ts";

/** The executor's CA when the start asks for credential masking (made on first use); refused when it cannot be made. */
export async function maskingAuthority(params: ProcessStartParams, ownEnv: Record<string, string | undefined>): Promise<MitmAuthority | null> {
  if (params.networkProxy?.proxy.credentialMasking !== true) return null;
  const made = executorAuthority(ownEnv);
  // The reference's refusal, word for word (probed on 0.171.0 with CODEX_HOME naming no directory).
  if (!made) throw invalidParams("invalid network proxy config: failed to resolve CODEX_HOME for managed MITM CA");
  try {
    return await made;
  } catch (e) {
    throw invalidParams(`${CANNOT_ENFORCE}: credential masking's CA could not be made (${(e as Error).message}); the command was not started`);
  }
}

/** The process's own proxies (null without `networkProxy`): decisions go to the client as notifications, questions as requests. */
export function startProcessProxy(params: ProcessStartParams, sink: ProcessEventSink, authority: MitmAuthority | null) {
  if (!params.networkProxy) return null;
  const processId = params.processId;
  return startManagedProxy(
    params.networkProxy,
    {
      report: (e) => sink.notify("network/policyDecision", { processId, ...e }),
      ask: (request, timeoutMs, signal) => sink.ask("network/policyRequest", { processId, request }, timeoutMs, signal),
    },
    authority,
  );
}

/**
 * The start a shell-snapshot capture runs as: the command's own, except that
 * a command behind a managed proxy captures with no network at all (its
 * proxies exist only once the command starts; a login profile needs none).
 */
export function captureParams(params: ProcessStartParams): ProcessStartParams {
  if (!params.networkProxy) return params;
  const box = params.sandbox;
  const sandbox = box && box.permissions.type !== "disabled" ? { ...box, permissions: { ...box.permissions, network: "restricted" as const } } : box;
  return { ...params, sandbox, enforceManagedNetwork: false, networkProxy: null };
}
