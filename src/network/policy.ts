/**
 * The managed proxy's decision for one destination, as the reference makes
 * it (probed on 0.171.0, see test/network/), in two steps. By name
 * (`hostVerdict`): the denylist first; then a loopback or private
 * destination without `allowLocalBinding` is `not_allowed_local`; then the
 * allowlist (which must name local destinations too), where a review domain
 * counts as not listed (`not_allowed`: the client may decide it, see
 * gate.ts). By address (`resolveDestination`): without `allowLocalBinding`,
 * what the name resolves to (nowhere, or a private address:
 * `not_allowed_local`), even after the client allowed it. The caller connects to the very address checked here,
 * so a name cannot resolve to a public address for the check and a private
 * one for the connect.
 */
import { isIP } from "node:net";
import { type AddressResolver, isLocalAddress, isLocalName } from "./addresses.ts";

export type ProxyMode = "full" | "limited";
export type DomainAccess = "allow" | "deny" | "none";
export type ProxyProtocol = "http" | "https_connect" | "socks5_tcp";

export type ProxyPolicy = {
  domains: Record<string, DomainAccess>;
  allowLocalBinding: boolean;
  mode: ProxyMode;
  /** `proxy.reviewDomains`: patterns as the domains' whose hosts are never allowed by the allowlist alone. */
  reviewDomains: string[];
};

export type DenyReason = "denied" | "not_allowed" | "not_allowed_local" | "method_not_allowed" | "mitm_required";

/** What the proxy does with a destination. `address`: where to connect when allowed. */
export type Verdict =
  | { decision: "allow"; address: string }
  | { decision: "deny"; reason: Exclude<DenyReason, "method_not_allowed" | "mitm_required"> };

/** Methods `mode: "limited"` lets through (reads only). */
export const LIMITED_MODE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

export async function decideDestination(policy: ProxyPolicy, rawHost: string, resolve: AddressResolver): Promise<Verdict> {
  const host = normalizeHost(rawHost);
  const named = hostVerdict(policy, host);
  return named.decision === "deny" ? named : resolveDestination(policy, host, resolve);
}

export type HostVerdict = { decision: "allow" } | Extract<Verdict, { decision: "deny" }>;

/** The decision by name alone (`host` normalized). */
export function hostVerdict(policy: ProxyPolicy, host: string): HostVerdict {
  if (matchesAny(host, patterns(policy, "deny"))) return { decision: "deny", reason: "denied" };
  if (isLocalLiteral(host) && !policy.allowLocalBinding && !explicitlyAllowed(policy, host)) return { decision: "deny", reason: "not_allowed_local" };
  // allowLocalBinding lets a local destination be allowed; it is still one the allowlist must name.
  if (!matchesAny(host, patterns(policy, "allow"))) return { decision: "deny", reason: "not_allowed" };
  if (matchesAny(host, policy.reviewDomains.map(normalizeHost))) return { decision: "deny", reason: "not_allowed" };
  return { decision: "allow" };
}

/**
 * A local destination written as itself: `localhost` (or a name under it),
 * or a loopback, private or link-local address literal. Without
 * allowLocalBinding such a host is reachable only when the allowlist names
 * it exactly (as the reference); a name that merely resolves to a local
 * address never is.
 */
function isLocalLiteral(host: string): boolean {
  return isLocalName(host) || (isIP(host) !== 0 && isLocalAddress(host));
}

/** The allowlist names `host` itself: no `*`, `*.x`, `**.x` or other wildcard counts, so one `*` never opens the local network. */
function explicitlyAllowed(policy: ProxyPolicy, host: string): boolean {
  return patterns(policy, "allow").some((p) => !p.includes("*") && !p.includes("?") && p === host);
}

/** Where a host allowed by name (by the policy or by the client) may be reached, or `not_allowed_local`. */
export async function resolveDestination(policy: ProxyPolicy, host: string, resolve: AddressResolver): Promise<Verdict> {
  const literal = isIP(host) !== 0;
  const addresses = literal ? [host] : isLocalName(host) ? ["127.0.0.1"] : await resolve(host);
  if (policy.allowLocalBinding) return { decision: "allow", address: addresses[0] ?? host };
  // A local host the allowlist names exactly goes where it says (hostVerdict let only such a one through).
  if (isLocalLiteral(host) && explicitlyAllowed(policy, host)) return { decision: "allow", address: addresses[0]! };
  // Unresolvable, or any answer private: refused rather than pick among them.
  if (addresses.length === 0 || addresses.some(isLocalAddress)) return { decision: "deny", reason: "not_allowed_local" };
  return { decision: "allow", address: addresses[0]! };
}

/** The mode guard, after the destination was allowed: `limited` lets reads through and no CONNECT (it cannot inspect TLS). */
export function modeGuard(policy: ProxyPolicy, protocol: ProxyProtocol, method: string | undefined): "method_not_allowed" | "mitm_required" | null {
  if (policy.mode !== "limited") return null;
  if (protocol === "https_connect") return "mitm_required";
  // SOCKS carries no method to inspect: nothing goes through it in limited mode.
  if (protocol === "socks5_tcp" || !LIMITED_MODE_METHODS.has((method ?? "").toUpperCase())) return "method_not_allowed";
  return null;
}

/** Lower case, without a trailing dot or IPv6 brackets. */
export function normalizeHost(host: string): string {
  let h = host.toLowerCase();
  if (h.startsWith("[") && h.endsWith("]")) h = h.slice(1, -1);
  return h.endsWith(".") ? h.slice(0, -1) : h;
}

function patterns(policy: ProxyPolicy, access: "allow" | "deny"): string[] {
  return Object.entries(policy.domains)
    .filter(([, a]) => a === access)
    .map(([p]) => normalizeHost(p));
}

function matchesAny(host: string, list: string[]): boolean {
  return list.some((p) => domainMatches(p, host));
}

/** `*` any host; `**.x` x and its subdomains; `*.x` subdomains of x only; anything else exactly. */
export function domainMatches(pattern: string, host: string): boolean {
  if (pattern === "*") return true;
  if (pattern.startsWith("**.")) {
    const apex = pattern.slice(3);
    return host === apex || host.endsWith(`.${apex}`);
  }
  if (pattern.startsWith("*.")) return host.endsWith(`.${pattern.slice(2)}`);
  return host === pattern;
}
