/** The managed HTTP proxy's own answers, byte for byte as the reference's (probed on 0.171.0). */
import { type DenyReason, normalizeHost } from "./policy.ts";

const REFUSALS: Record<DenyReason, { header: string; message: string }> = {
  denied: { header: "blocked-by-denylist", message: "Domain denied by the sandbox policy." },
  not_allowed: { header: "blocked-by-allowlist", message: "Domain not in allowlist." },
  not_allowed_local: { header: "blocked-by-allowlist", message: "Sandbox policy blocks local/private network addresses." },
  method_not_allowed: { header: "blocked-by-method-policy", message: "Method not allowed in limited mode." },
  mitm_required: { header: "blocked-by-mitm-required", message: "MITM required for limited HTTPS." },
};

/** A 403 naming the decision: JSON for a request, the plain message for a CONNECT. */
export function refusal(reason: DenyReason, rawHost: string, port: number, protocol: "http" | "https_connect"): string {
  const { header, message } = REFUSALS[reason];
  if (protocol === "https_connect") return reply("403 Forbidden", [["content-type", "text/plain"], ["x-proxy-error", header]], message);
  const host = normalizeHost(rawHost);
  const source = reason === "method_not_allowed" ? "mode_guard" : "baseline_policy";
  const body = JSON.stringify({ status: "blocked", host, reason, decision: "deny", source, protocol, port, message });
  return reply("403 Forbidden", [["content-type", "application/json"], ["x-proxy-error", header]], body);
}

export const badGateway = () => reply("502 Bad Gateway", [["content-type", "text/plain"]], "upstream failure");
export const badRequest = () => reply("400 Bad Request", [["connection", "close"]], "");
export const connectEstablished = () => `HTTP/1.1 200 OK\r\ndate: ${new Date().toUTCString()}\r\n\r\n`;

function reply(status: string, headers: [string, string][], body: string): string {
  const lines = headers.map(([k, v]) => `${k}: ${v}\r\n`).join("");
  return `HTTP/1.1 ${status}\r\n${lines}content-length: ${Buffer.byteLength(body)}\r\ndate: ${new Date().toUTCString()}\r\n\r\n${body}`;
}
