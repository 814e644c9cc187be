/**
 * The managed proxy's decisions (src/network/policy.ts), with a resolver the
 * test controls: the order the reference applies (probed on 0.171.0:
 * denylist, local without allowLocalBinding, allowlist, resolution), domain
 * patterns, and the address the proxy then connects to.
 */
import { describe, expect, test } from "bun:test";
import { isLocalAddress } from "../../src/network/addresses.ts";
import { type ProxyPolicy, decideDestination, domainMatches, modeGuard } from "../../src/network/policy.ts";

const hosts: Record<string, string[]> = { "public.test": ["93.184.216.34"], "www.public.test": ["93.184.216.34"], "private.test": ["10.1.2.3"], "mixed.test": ["93.184.216.34", "192.168.1.1"] };
const resolver = async (h: string) => hosts[h] ?? [];
const policy = (p: Partial<ProxyPolicy>): ProxyPolicy => ({ domains: {}, allowLocalBinding: false, mode: "full", reviewDomains: [], ...p });
const decide = (p: Partial<ProxyPolicy>, host: string) => decideDestination(policy(p), host, resolver);

describe("decideDestination", () => {
  test("the denylist first: it wins over the allowlist and over allowLocalBinding", async () => {
    expect(await decide({ domains: { "public.test": "deny", "*": "allow" } }, "public.test")).toEqual({ decision: "deny", reason: "denied" });
    expect(await decide({ domains: { "127.0.0.1": "deny" } }, "127.0.0.1")).toEqual({ decision: "deny", reason: "denied" });
    expect(await decide({ domains: { localhost: "deny", "*": "allow" }, allowLocalBinding: true }, "localhost")).toEqual({ decision: "deny", reason: "denied" });
  });
  test("local destinations: not_allowed_local without allowLocalBinding; with it they still need the allowlist", async () => {
    for (const host of ["127.0.0.1", "localhost", "LOCALHOST.", "api.localhost", "[::1]", "10.0.0.5", "::ffff:192.168.0.1"]) {
      expect([host, await decide({ domains: { "*": "allow" } }, host)]).toEqual([host, { decision: "deny", reason: "not_allowed_local" }]);
      expect([host, await decide({ allowLocalBinding: true }, host)]).toEqual([host, { decision: "deny", reason: "not_allowed" }]);
    }
    expect(await decide({ allowLocalBinding: true, domains: { localhost: "allow" } }, "localhost")).toEqual({ decision: "allow", address: "127.0.0.1" });
    expect(await decide({ allowLocalBinding: true, domains: { "*": "allow" } }, "[::1]")).toEqual({ decision: "allow", address: "::1" });
  });
  test("without allowLocalBinding a local host the allowlist names exactly is allowed (probed: probe-cases/requests-4.json); no wildcard counts, and a name resolving to a local address never is", async () => {
    expect(await decide({ domains: { "127.0.0.1": "allow" } }, "127.0.0.1")).toEqual({ decision: "allow", address: "127.0.0.1" });
    expect(await decide({ domains: { localhost: "allow" } }, "LOCALHOST.")).toEqual({ decision: "allow", address: "127.0.0.1" });
    expect(await decide({ domains: { "10.0.0.5": "allow" } }, "10.0.0.5")).toEqual({ decision: "allow", address: "10.0.0.5" });
    for (const pattern of ["*", "*.localhost", "**.localhost", "127.0.0.?"]) {
      const host = pattern.includes("localhost") ? "api.localhost" : "127.0.0.1";
      expect([pattern, await decide({ domains: { [pattern]: "allow" } }, host)]).toEqual([pattern, { decision: "deny", reason: "not_allowed_local" }]);
    }
    expect(await decide({ domains: { "private.test": "allow" } }, "private.test")).toEqual({ decision: "deny", reason: "not_allowed_local" });
  });
  test("names: the allowlist, then what they resolve to; the proxy connects to the address it checked", async () => {
    expect(await decide({ domains: { "*.public.test": "allow" } }, "public.test")).toEqual({ decision: "deny", reason: "not_allowed" });
    expect(await decide({ domains: { "*.public.test": "allow" } }, "www.public.test")).toEqual({ decision: "allow", address: "93.184.216.34" });
    expect(await decide({ domains: { "**.public.test": "allow" } }, "public.test")).toEqual({ decision: "allow", address: "93.184.216.34" });
    expect(await decide({ domains: { "*": "allow" } }, "private.test")).toEqual({ decision: "deny", reason: "not_allowed_local" });
    expect(await decide({ domains: { "*": "allow" } }, "mixed.test")).toEqual({ decision: "deny", reason: "not_allowed_local" });
    expect(await decide({ domains: { "*": "allow" } }, "nowhere.test")).toEqual({ decision: "deny", reason: "not_allowed_local" });
    // With allowLocalBinding a private or unresolvable answer is let through (an unresolvable one then fails to connect: 502).
    expect(await decide({ domains: { "*": "allow" }, allowLocalBinding: true }, "private.test")).toEqual({ decision: "allow", address: "10.1.2.3" });
    expect(await decide({ domains: { "*": "allow" }, allowLocalBinding: true }, "nowhere.test")).toEqual({ decision: "allow", address: "nowhere.test" });
    expect(await decide({ domains: { "93.184.216.34": "allow" } }, "93.184.216.34")).toEqual({ decision: "allow", address: "93.184.216.34" });
    expect(await decide({ domains: { "public.test": "none" } }, "public.test")).toEqual({ decision: "deny", reason: "not_allowed" });
  });
  test("review domains count as not in the allowlist (patterns as the domains'); the denylist and the local check still come first", async () => {
    const allowAll = { domains: { "*": "allow" as const } };
    expect(await decide({ ...allowAll, reviewDomains: ["public.test"] }, "public.test")).toEqual({ decision: "deny", reason: "not_allowed" });
    expect(await decide({ ...allowAll, reviewDomains: ["**.PUBLIC.test."] }, "www.public.test")).toEqual({ decision: "deny", reason: "not_allowed" });
    expect(await decide({ ...allowAll, reviewDomains: ["*.public.test"] }, "public.test")).toEqual({ decision: "allow", address: "93.184.216.34" });
    expect(await decide({ domains: { "public.test": "deny" }, reviewDomains: ["public.test"] }, "public.test")).toEqual({ decision: "deny", reason: "denied" });
    expect(await decide({ ...allowAll, reviewDomains: ["127.0.0.1"] }, "127.0.0.1")).toEqual({ decision: "deny", reason: "not_allowed_local" });
  });
});

test("domain patterns: * any, **.x apex and below, *.x below only, else exact (case and trailing dot ignored by the caller)", () => {
  const cases: [string, string, boolean][] = [
    ["*", "a.b", true],
    ["**.x.test", "x.test", true],
    ["**.x.test", "a.b.x.test", true],
    ["*.x.test", "x.test", false],
    ["*.x.test", "a.x.test", true],
    ["*.x.test", "ax.test", false],
    ["x.test", "x.test", true],
    ["x.test", "a.x.test", false],
  ];
  for (const [p, h, want] of cases) expect([p, h, domainMatches(p, h)]).toEqual([p, h, want]);
});

test("limited mode: GET, HEAD and OPTIONS only; no CONNECT and no SOCKS", () => {
  const limited = policy({ mode: "limited" });
  expect(["GET", "head", "OPTIONS", "POST", "DELETE"].map((m) => modeGuard(limited, "http", m))).toEqual([null, null, null, "method_not_allowed", "method_not_allowed"]);
  expect(modeGuard(limited, "https_connect", "CONNECT")).toBe("mitm_required");
  expect(modeGuard(limited, "socks5_tcp", undefined)).toBe("method_not_allowed");
  expect(modeGuard(policy({}), "socks5_tcp", undefined)).toBeNull();
});

test("private ranges", () => {
  const local = ["0.0.0.0", "10.9.9.9", "100.64.0.1", "127.1.2.3", "169.254.1.1", "172.16.0.1", "172.31.255.255", "192.168.7.7", "::", "::1", "fd12::1", "fe80::1", "::ffff:127.0.0.1"];
  const publicOnes = ["8.8.8.8", "172.32.0.1", "100.128.0.1", "2606:4700::1", "::ffff:8.8.8.8"];
  expect(local.filter((a) => !isLocalAddress(a))).toEqual([]);
  expect(publicOnes.filter(isLocalAddress)).toEqual([]);
});
