/**
 * `process/start` fields that carry a policy execbox does not implement.
 * Parsing such a field and running the command anyway would run it with less
 * protection than the client asked for, so each is refused before anything
 * starts (-32602, the sandbox refusals' wording).
 *
 * Audited against the 0.169.0 and 0.171.0 references' params (every field of
 * WireExecParams, the fs/* params and HttpRequestParams is in execbox's
 * schemas; none is stripped as unknown): of `networkProxy`, the parts
 * execbox does not carry out (review domains, credential masking, SOCKS5 UDP:
 * src/network/managed-proxy.ts), and 0.171.0's `managedNetwork.transparentTcp:
 * true` (with the reference's own text for a start without a proxy).
 * Not refused, on purpose:
 * `shellSnapshot` (restores shell state, restricts nothing), `metadata`
 * (attribution), `managedNetwork.allowLocalBinding` (a permission: leaving it
 * out is narrower), and `enforceManagedNetwork` without a `sandbox` (ignored
 * by the reference too; see the README's Sandboxing section).
 *
 * Shapes are checked before this runs: `networkProxy` and `shellSnapshot` are
 * parsed by the params schema (messages/network-proxy.ts, messages/process.ts),
 * so a malformed one gets the reference's serde error first.
 */
import { invalidParams } from "../protocol/errors.ts";
import type { ProcessStartParams } from "../protocol/messages/process.ts";
import { refuseUnsupportedProxy } from "../network/managed-proxy.ts";
import { CANNOT_ENFORCE } from "../sandbox/launch.ts";

export function refuseUnenforcedPolicy(params: ProcessStartParams): void {
  if (params.managedNetwork?.transparentTcp === true && params.networkProxy == null) {
    throw invalidParams("transparent TCP requires an executor-local managed proxy");
  }
  // The parts of a managed proxy execbox does not carry out (src/network/managed-proxy.ts).
  if (params.networkProxy != null) {
    const sandboxed = params.sandbox != null;
    refuseUnsupportedProxy(params.networkProxy, sandboxed, sandboxed && params.enforceManagedNetwork === true);
  }
  if (params.managedNetwork?.transparentTcp === true) {
    throw invalidParams(`${CANNOT_ENFORCE}: managedNetwork.transparentTcp (raw TCP through the managed SOCKS listener) is not implemented by execbox (networkProxyTransparentTcp is false); the command was not started`);
  }
}
