/**
 * One decision per connection attempt, reported as the reference reports it:
 * a `network/policyDecision` for every destination decision (an allow too),
 * and a second one when the mode guard then refuses the method. With a
 * decider (review domains, decider.ts), a destination the policy does not
 * allow by name is the client's to decide: its refusal is reported with
 * `source: "decider"`; its allow still has to pass the address check (a
 * local address without allowLocalBinding stays `not_allowed_local`, and
 * then only that is reported) and is reported as an override.
 */
import { networkInterfaces } from "node:os";
import { isExecutorPort } from "../sandbox/peer-guard.ts";
import { type AddressResolver, isLocalAddress } from "./addresses.ts";
import type { Decider } from "./decider.ts";
import { type DenyReason, type ProxyPolicy, type ProxyProtocol, hostVerdict, modeGuard, normalizeHost, resolveDestination } from "./policy.ts";

export type DecisionSource = "baseline_policy" | "mode_guard" | "decider";

/** The `network/policyDecision` params without `processId` (the process's sink adds it). */
export type PolicyDecisionEvent = {
  timestamp: string;
  scope: "domain" | "non_domain";
  decision: "allow" | "deny" | "ask";
  source: DecisionSource;
  /** A `DenyReason`, `allow`, or the client's own reason. */
  reason: string;
  protocol: ProxyProtocol;
  host: string;
  port: number;
  method?: string;
  client: string;
  /** True when the client allowed what the policy did not. */
  policyOverride: boolean;
};

export type Attempt = { host: string; port: number; protocol: ProxyProtocol; method?: string; client: string };
/** A refusal: `reason` is a `DenyReason` unless the client chose it; `decision` is `ask` when the client answered so. */
export type Denial = { ok: false; reason: DenyReason | string; source: DecisionSource; decision: "deny" | "ask" };
export type GateAnswer = { ok: true; address: string } | Denial;

export class PolicyGate {
  constructor(
    private readonly policy: ProxyPolicy,
    private readonly resolve: AddressResolver,
    private readonly report: (event: PolicyDecisionEvent) => void,
    private readonly decider: Decider | null = null,
  ) {}

  async check(attempt: Attempt): Promise<GateAnswer> {
    // SOCKS in limited mode is refused before its destination is looked at (one report, as the reference).
    if (attempt.protocol === "socks5_tcp" && modeGuard(this.policy, attempt.protocol, undefined)) {
      return this.deny(attempt, "non_domain", "mode_guard", "method_not_allowed");
    }
    const host = normalizeHost(attempt.host);
    const named = hostVerdict(this.policy, host);
    let overridden = false;
    if (named.decision === "deny") {
      if (named.reason !== "not_allowed" || !this.decider) return this.deny(attempt, "domain", "baseline_policy", named.reason);
      const told = await this.decider({ protocol: attempt.protocol, host, port: attempt.port });
      if (told.decision !== "allow") return this.deny(attempt, "domain", "decider", told.reason, told.decision);
      overridden = true;
    }
    const verdict = await resolveDestination(this.policy, host, this.resolve);
    if (verdict.decision === "deny") return this.deny(attempt, "domain", "baseline_policy", verdict.reason);
    // Never the executor's own listener, whatever the policy allows: a connection from the proxy is the
    // executor's own socket, which the peer guard admits, and it would hand a sandboxed child an unsandboxed session.
    if (isExecutorDestination(verdict.address, attempt.port)) return this.deny(attempt, "domain", "baseline_policy", "not_allowed_local");
    if (overridden) this.emit(attempt, "domain", "allow", "decider", "not_allowed", true);
    else this.emit(attempt, "domain", "allow", "baseline_policy", "allow");
    const guarded = modeGuard(this.policy, attempt.protocol, attempt.method);
    if (guarded) return this.deny(attempt, "non_domain", "mode_guard", guarded);
    return { ok: true, address: verdict.address };
  }

  private deny(a: Attempt, scope: PolicyDecisionEvent["scope"], source: DecisionSource, reason: string, decision: "deny" | "ask" = "deny"): Denial {
    this.emit(a, scope, decision, source, reason);
    return { ok: false, reason, source, decision };
  }

  private emit(a: Attempt, scope: PolicyDecisionEvent["scope"], decision: PolicyDecisionEvent["decision"], source: DecisionSource, reason: string, policyOverride = false): void {
    this.report({
      timestamp: new Date().toISOString(),
      scope,
      decision,
      source,
      reason,
      protocol: a.protocol,
      host: normalizeHost(a.host),
      port: a.port,
      ...(a.method === undefined ? {} : { method: a.method }),
      client: a.client,
      policyOverride,
    });
  }
}

/**
 * A port the executor listens on, at an address that may be this machine: a
 * loopback or private one, an unspecified one, or any address of its own
 * interfaces (a listener on 0.0.0.0 answers on a public one too).
 */
function isExecutorDestination(address: string, port: number): boolean {
  if (!isExecutorPort(port)) return false;
  if (isLocalAddress(address) || address === "0.0.0.0" || address === "::") return true;
  const own = Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address.toLowerCase()));
  return own.includes(address.toLowerCase());
}
