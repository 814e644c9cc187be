/**
 * Review domains (networkProxyReviewDomains): with
 * `networkProxy.policyDecisionTimeoutMs` set, a destination the policy does
 * not allow by name (`not_allowed`: an allowlist miss or a review domain) is
 * put to the client as a `network/policyRequest`, and its answer decides.
 * Whatever is not a well-formed answer in time (an error answer, a malformed
 * one, no answer, no client attached, the process gone) is a refusal with
 * reason `not_allowed` (fail closed), as the reference's (probed on 0.171.0,
 * test/network/probe-cases/review-*.json). Every connection attempt asks
 * again: nothing is cached.
 */
import type { ClientAnswer } from "../server/client-requests.ts";
import { NetworkPolicyRequestResult } from "../protocol/messages/network-proxy.ts";
import type { ProxyProtocol } from "./policy.ts";

/**
 * Added to the client's `policyDecisionTimeoutMs` before a request is given
 * up (reference: 5 s, probed: a silent client with 1000 ms was refused after
 * about 6 s), so the client's own deadline (its reviewer's) runs out first
 * and its answer still arrives over a slow link.
 */
export const POLICY_DECISION_TRANSPORT_MARGIN_MS = 5_000;
/** A host longer than this (a DNS name's longest), empty, or with whitespace or control characters is refused without asking (the reference's bound). */
export const MAX_POLICY_HOST_BYTES = 253;
/** A refusal reason longer than this, or with a control character, is replaced by `not_allowed` (the reference's bound): it goes into 403 bodies and notifications. */
export const MAX_POLICY_REASON_BYTES = 1024;

export type DecisionRequest = { protocol: ProxyProtocol; host: string; port: number };
export type ClientDecision = { decision: "allow" } | { decision: "deny" | "ask"; reason: string };
/** Sends the `request` of a `network/policyRequest` (the caller adds the process id) and waits at most `timeoutMs`. */
export type AskClient = (request: DecisionRequest, timeoutMs: number, signal: AbortSignal) => Promise<ClientAnswer>;
export type Decider = (request: DecisionRequest) => Promise<ClientDecision>;

const REFUSED: ClientDecision = { decision: "deny", reason: "not_allowed" };
/** What the reference puts for an empty reason. */
const EMPTY_REASON = "policy_denied";
const BAD_HOST = /[\s\p{Cc}]/u;
const CONTROL = /\p{Cc}/u;

/** A decider asking the client, until `signal` (the process's proxy stopped) cancels what is pending. */
export function clientDecider(ask: AskClient, timeoutMs: number, signal: AbortSignal): Decider {
  return async (request) => {
    const host = request.host;
    if (host.length === 0 || Buffer.byteLength(host) > MAX_POLICY_HOST_BYTES || BAD_HOST.test(host)) return REFUSED;
    const answer = await ask(request, timeoutMs + POLICY_DECISION_TRANSPORT_MARGIN_MS, signal);
    return answer.ok ? readDecision(answer.result) : REFUSED;
  };
}

function readDecision(result: unknown): ClientDecision {
  const parsed = NetworkPolicyRequestResult.safeParse(result);
  if (!parsed.success) return REFUSED;
  const d = parsed.data.decision;
  if (d.type === "allow") return { decision: "allow" };
  if (Buffer.byteLength(d.reason) > MAX_POLICY_REASON_BYTES || CONTROL.test(d.reason)) return REFUSED;
  return { decision: d.type, reason: d.reason === "" ? EMPTY_REASON : d.reason };
}
