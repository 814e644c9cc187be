/**
 * One decision per connection attempt, reported as the reference reports it:
 * a `network/policyDecision` for every destination decision (an allow too),
 * and a second one when the mode guard then refuses the method.
 */
import type { AddressResolver } from "./addresses.ts";
import { type DenyReason, type ProxyPolicy, type ProxyProtocol, decideDestination, modeGuard, normalizeHost } from "./policy.ts";

export type DecisionSource = "baseline_policy" | "mode_guard";

/** The `network/policyDecision` params without `processId` (the process's sink adds it). */
export type PolicyDecisionEvent = {
  timestamp: string;
  scope: "domain" | "non_domain";
  decision: "allow" | "deny";
  source: DecisionSource;
  reason: DenyReason | "allow";
  protocol: ProxyProtocol;
  host: string;
  port: number;
  method?: string;
  client: string;
  policyOverride: false;
};

export type Attempt = { host: string; port: number; protocol: ProxyProtocol; method?: string; client: string };
export type GateAnswer = { ok: true; address: string } | { ok: false; reason: DenyReason; source: DecisionSource };

export class PolicyGate {
  constructor(
    private readonly policy: ProxyPolicy,
    private readonly resolve: AddressResolver,
    private readonly report: (event: PolicyDecisionEvent) => void,
  ) {}

  async check(attempt: Attempt): Promise<GateAnswer> {
    // SOCKS in limited mode is refused before its destination is looked at (one report, as the reference).
    if (attempt.protocol === "socks5_tcp" && modeGuard(this.policy, attempt.protocol, undefined)) {
      this.emit(attempt, "non_domain", "deny", "mode_guard", "method_not_allowed");
      return { ok: false, reason: "method_not_allowed", source: "mode_guard" };
    }
    const verdict = await decideDestination(this.policy, attempt.host, this.resolve);
    if (verdict.decision === "deny") {
      this.emit(attempt, "domain", "deny", "baseline_policy", verdict.reason);
      return { ok: false, reason: verdict.reason, source: "baseline_policy" };
    }
    this.emit(attempt, "domain", "allow", "baseline_policy", "allow");
    const guarded = modeGuard(this.policy, attempt.protocol, attempt.method);
    if (guarded) {
      this.emit(attempt, "non_domain", "deny", "mode_guard", guarded);
      return { ok: false, reason: guarded, source: "mode_guard" };
    }
    return { ok: true, address: verdict.address };
  }

  private emit(a: Attempt, scope: PolicyDecisionEvent["scope"], decision: PolicyDecisionEvent["decision"], source: DecisionSource, reason: PolicyDecisionEvent["reason"]): void {
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
      policyOverride: false,
    });
  }
}
