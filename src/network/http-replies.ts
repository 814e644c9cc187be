/** The managed HTTP proxy's own answers, byte for byte as the reference's (probed on 0.171.0). */
import type { Denial } from "./gate.ts";
import { type DenyReason, normalizeHost } from "./policy.ts";

const REFUSALS: Record<DenyReason, { header: string; message: string }> = {
  denied: { header: "blocked-by-denylist", message: "Domain denied by the sandbox policy." },
  not_allowed: { header: "blocked-by-allowlist", message: "Domain not in allowlist." },
  not_allowed_local: { header: "blocked-by-allowlist", message: "Sandbox policy blocks local/private network addresses." },
  method_not_allowed: { header: "blocked-by-method-policy", message: "Method not allowed in limited mode." },
  mitm_required: { header: "blocked-by-mitm-required", message: "MITM required for limited HTTPS." },
};

/** Any other reason (one a client's decider gave, `ask`'s included). */
const POLICY_REFUSAL = { header: "blocked-by-policy", message: "Request blocked by network policy." };

/** A 403 naming the decision: JSON for a request, the plain message for a CONNECT. */
export function refusal(denial: Denial, rawHost: string, port: number, protocol: "http" | "https_connect"): string {
  const { reason, decision, source } = denial;
  const { header, message } = Object.hasOwn(REFUSALS, reason) ? REFUSALS[reason as DenyReason] : POLICY_REFUSAL;
  if (protocol === "https_connect") return reply("403 Forbidden", [["content-type", "text/plain"], ["x-proxy-error", header]], message);
  const host = normalizeHost(rawHost);
  const body = JSON.stringify({ status: "blocked", host, reason, decision, source, protocol, port, message });
  return reply("403 Forbidden", [["content-type", "application/json"], ["x-proxy-error", header]], body);
}

export const badGateway = () => reply("502 Bad Gateway", [["content-type", "text/plain"]], "upstream failure");
export const badRequest = () => reply("400 Bad Request", [["connection", "close"]], "");
export const connectEstablished = () => `HTTP/1.1 200 OK\r\ndate: ${new Date().toUTCString()}\r\n\r\n`;

function reply(status: string, headers: [string, string][], body: string): string {
  const lines = headers.map(([k, v]) => `${k}: ${v}\r\n`).join("");
  return `HTTP/1.1 ${status}\r\n${lines}content-length: ${Buffer.byteLength(body)}\r\ndate: ${new Date().toUTCString()}\r\n\r\n${body}`;
}
