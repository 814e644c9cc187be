/**
 * `process/start.networkProxy` (`RemoteNetworkProxyLaunchConfig`): an
 * executor-local managed proxy (src/network/). A malformed one gets the
 * reference's serde error. Field names, required fields and struct names as
 * probed on 0.171.0.
 */
import { z } from "zod";
import { bool, lazy, mapOf, opt, seq, str, struct, u64, variant } from "../serde.ts";

const PROVIDER_FIELDS = ["env", "patterns", "url_prefixes", "url_prefix_from_env", "auth", "header", "prefix"];

/**
 * A custom credential provider (src/network/credential-providers.ts): the
 * Codex CLI's `[features.network_proxy.credentials.<id>]` table as it is,
 * snake_case, every field optional, an unknown one refused with serde's text
 * (probed on 0.171.0, with or without `credentialMasking`).
 */
const CredentialProviderConfig = lazy(() =>
  z
    .unknown()
    .superRefine((value, ctx) => {
      if (value === null || typeof value !== "object" || Array.isArray(value)) return;
      const unknown = Object.keys(value).find((k) => !PROVIDER_FIELDS.includes(k));
      if (unknown !== undefined) ctx.addIssue({ code: "custom", message: `unknown field \`${unknown}\`, expected one of ${PROVIDER_FIELDS.map((f) => `\`${f}\``).join(", ")}`, input: value });
    })
    .pipe(
      struct(
        "CredentialProviderConfig",
        {
          env: seq(str()).optional(),
          patterns: seq(str()).optional(),
          url_prefixes: seq(str()).optional(),
          url_prefix_from_env: opt(str()),
          auth: seq(variant(["bearer", "token", "basic", "header"])).optional(),
          header: opt(str()),
          prefix: opt(str()),
        },
        { mapOnly: true },
      ),
    ),
);

/** The proxy's policy; the reference reads it only as a map (`expected struct` for an array too). */
export const RemoteNetworkProxyConfig = lazy(() =>
  struct(
    "RemoteNetworkProxyConfig",
    {
      enabled: bool(),
      enableSocks5: bool(),
      enableSocks5Udp: bool(),
      allowUpstreamProxy: bool(),
      dangerouslyAllowAllUnixSockets: bool(),
      mode: variant(["limited", "full"]),
      // Both `Option`s in the reference (`null` = absent); the 0.171.0 CLI sends `unixSockets: null`.
      domains: opt(mapOf(variant(["none", "allow", "deny"]))),
      unixSockets: opt(struct("NetworkUnixSocketPermissions", {})),
      allowLocalBinding: bool(),
      reviewDomains: seq(str()).optional(),
      credentialMasking: bool().optional(),
      credentialProviders: mapOf(CredentialProviderConfig).optional(),
      /** 0.171.0: route the sandbox's raw TCP through the SOCKS listener (execbox refuses `true`: it routes none). */
      transparentTcp: bool().optional(),
    },
    { mapOnly: true },
  ),
);

/** Attribution for the proxy's audit log; may be left out, but not `null`. */
const NetworkProxyAuditMetadata = lazy(() =>
  struct("NetworkProxyAuditMetadata", {
    conversationId: opt(str()),
    appVersion: opt(str()),
    userAccountId: opt(str()),
    authMode: opt(str()),
    originator: opt(str()),
    userEmail: opt(str()),
    terminalType: opt(str()),
    model: opt(str()),
    slug: opt(str()),
  }),
);

export const RemoteNetworkProxyLaunchConfig = lazy(() =>
  struct(
    "RemoteNetworkProxyLaunchConfig",
    {
      proxy: RemoteNetworkProxyConfig,
      auditMetadata: NetworkProxyAuditMetadata.optional(),
      environmentId: opt(str()),
      executionId: opt(str()),
      policyDecisionTimeoutMs: opt(u64()),
    },
    { seqDefaults: true },
  ),
);

/** `network/policyDecision`: one per decision the process's managed proxy makes (src/network/gate.ts). */
export const NetworkPolicyDecisionNotification = lazy(() =>
  z.object({
    processId: z.string(),
    timestamp: z.string(),
    scope: z.enum(["domain", "non_domain"]),
    decision: z.enum(["allow", "deny", "ask"]),
    source: z.string(),
    reason: z.string(),
    protocol: z.enum(["http", "https_connect", "socks5_tcp"]),
    host: z.string(),
    port: z.number(),
    method: z.string().optional(),
    client: z.string(),
    policyOverride: z.boolean(),
  }),
);

/** `network/policyRequest` (server → client): the managed proxy asks the client about a destination (src/network/decider.ts). */
export const NetworkPolicyRequestParams = lazy(() =>
  z.object({
    processId: z.string(),
    request: z.object({ protocol: z.enum(["http", "https_connect", "socks5_tcp"]), host: z.string(), port: z.number().int() }),
  }),
);

/**
 * The client's answer, read as leniently as the reference reads it: other
 * fields are ignored; anything else (a missing or non-string `reason`, an
 * unknown `type`, `Allow`) is malformed, which the proxy takes as a refusal.
 */
export const NetworkPolicyRequestResult = lazy(() =>
  z.object({
    decision: z.discriminatedUnion("type", [
      z.object({ type: z.literal("allow") }),
      z.object({ type: z.literal("deny"), reason: z.string() }),
      z.object({ type: z.literal("ask"), reason: z.string() }),
    ]),
  }),
);
