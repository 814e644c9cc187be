/**
 * The gate with a decider (src/network/gate.ts), with a resolver and a
 * decider the test controls: who is asked, and what is reported after the
 * client's answer (probed on 0.171.0: test/network/probe-cases/review-1.json).
 */
import { expect, test } from "bun:test";
import { networkInterfaces } from "node:os";
import { isLocalAddress } from "../../src/network/addresses.ts";
import { noteListener } from "../../src/sandbox/peer-guard.ts";
import type { ClientDecision, DecisionRequest } from "../../src/network/decider.ts";
import { type PolicyDecisionEvent, PolicyGate } from "../../src/network/gate.ts";
import type { ProxyPolicy } from "../../src/network/policy.ts";

const hosts: Record<string, string[]> = { "public.test": ["93.184.216.34"], "private.test": ["10.1.2.3"] };
const policy: ProxyPolicy = { domains: { "public.test": "allow", "denied.test": "deny" }, allowLocalBinding: false, mode: "limited", reviewDomains: ["public.test"] };

function gate(answer: ClientDecision) {
  const asked: DecisionRequest[] = [];
  const events: Omit<PolicyDecisionEvent, "timestamp" | "client" | "port" | "protocol">[] = [];
  const g = new PolicyGate(policy, async (h) => hosts[h] ?? [], ({ timestamp, client, port, protocol, ...e }) => events.push(e), async (r) => (asked.push(r), answer));
  const check = (host: string, method = "GET") => g.check({ host, port: 80, protocol: "http", method, client: "127.0.0.1:1" });
  return { asked, events, check };
}

test("denylisted and local hosts are never asked; a miss and a review domain are", async () => {
  const g = gate({ decision: "deny", reason: "r" });
  expect(await g.check("denied.test")).toEqual({ ok: false, reason: "denied", source: "baseline_policy", decision: "deny" });
  expect(await g.check("127.0.0.1")).toEqual({ ok: false, reason: "not_allowed_local", source: "baseline_policy", decision: "deny" });
  expect(g.asked).toEqual([]);
  expect(await g.check("PUBLIC.test.")).toEqual({ ok: false, reason: "r", source: "decider", decision: "deny" });
  expect(await g.check("other.test")).toEqual({ ok: false, reason: "r", source: "decider", decision: "deny" });
  expect(g.asked).toEqual([{ protocol: "http", host: "public.test", port: 80 }, { protocol: "http", host: "other.test", port: 80 }]);
});

test("an allow still meets the address check (then only that is reported) and the mode guard (reported second)", async () => {
  const g = gate({ decision: "allow" });
  expect(await g.check("private.test")).toEqual({ ok: false, reason: "not_allowed_local", source: "baseline_policy", decision: "deny" });
  expect(g.events).toEqual([{ scope: "domain", decision: "deny", source: "baseline_policy", reason: "not_allowed_local", host: "private.test", method: "GET", policyOverride: false }]);
  g.events.length = 0;
  expect(await g.check("public.test", "POST")).toEqual({ ok: false, reason: "method_not_allowed", source: "mode_guard", decision: "deny" });
  expect(g.events).toEqual([
    { scope: "domain", decision: "allow", source: "decider", reason: "not_allowed", host: "public.test", method: "POST", policyOverride: true },
    { scope: "non_domain", decision: "deny", source: "mode_guard", reason: "method_not_allowed", host: "public.test", method: "POST", policyOverride: false },
  ]);
  expect(await g.check("public.test")).toEqual({ ok: true, address: "93.184.216.34" });
});

test("escape: the executor's own listening port is refused at any address of this machine, loopback or not, whatever the policy allows", async () => {
  const port = 47_000 + (process.pid % 1000);
  noteListener(port, false);
  const own = Object.values(networkInterfaces()).flatMap((l) => (l ?? []).map((i) => i.address)).filter((a) => !isLocalAddress(a) && !a.includes(":"));
  const events: string[] = [];
  const open: ProxyPolicy = { domains: { "*": "allow", "127.0.0.1": "allow", ...Object.fromEntries(own.map((a) => [a, "allow"])) }, allowLocalBinding: true, mode: "full", reviewDomains: [] };
  const g = new PolicyGate(open, async () => [], (e) => events.push(`${e.host}:${e.port} ${e.decision} ${e.reason}`));
  for (const host of ["127.0.0.1", ...own]) {
    expect([host, await g.check({ host, port, protocol: "https_connect", method: "CONNECT", client: "127.0.0.1:1" })]).toEqual([host, { ok: false, reason: "not_allowed_local", source: "baseline_policy", decision: "deny" }]);
    expect(await g.check({ host, port: port + 1, protocol: "https_connect", method: "CONNECT", client: "127.0.0.1:1" })).toEqual({ ok: true, address: host });
  }
  expect(events.filter((e) => e.includes(" deny "))).toEqual(["127.0.0.1", ...own].map((h) => `${h}:${port} deny not_allowed_local`));
});
