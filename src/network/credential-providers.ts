/**
 * Custom credential providers (`proxy.credentialProviders`, the Codex CLI's
 * `[features.network_proxy.credentials.<id>]`), checked when a masked start
 * arrives. The reference (probed on 0.171.0) silently drops a provider it
 * cannot use — no patterns, an invalid pattern, a bad environment key, no or
 * a bad url prefix, `header` auth without a valid header name, an
 * environment variable a built-in provider owns, a loopback destination the
 * child reaches around the proxy under `allowLocalBinding` — and the command
 * then gets that credential's real value. execbox refuses such a start
 * instead (-32602 `invalid network proxy config: …`, with the reference's own
 * wording where it has one): a credential the client asked to mask never
 * reaches the command unmasked.
 */
import { invalidParams } from "../protocol/errors.ts";
import { type CredentialDestination, bypassesProxy, parseDestination } from "./credential-destination.ts";
import { type CredentialPattern, MAX_CREDENTIAL_PATTERN_EXPANSION, MAX_CREDENTIAL_PATTERNS, compilePattern, matchesWhole, patternExpansion } from "./credential-dummy.ts";

export type AuthMethod = "bearer" | "token" | "basic" | "header";

/** One provider as the wire carries it (snake_case; every field may be left out). */
export type CredentialProviderConfig = {
  env?: string[];
  patterns?: string[];
  url_prefixes?: string[];
  url_prefix_from_env?: string | null;
  auth?: AuthMethod[];
  header?: string | null;
  prefix?: string | null;
};

export type CustomProvider = {
  id: string;
  env: string[];
  patterns: CredentialPattern[];
  destinations: CredentialDestination[];
  /** `bearer` when none is given (probed: `auth: []` and a missing `auth` both rewrite only `Bearer`). */
  auth: Set<AuthMethod>;
  /** Lower-case header name for `header` auth, with the text before the dummy in it. */
  header: string | null;
  prefix: string;
};

/** The variables the built-in providers own (credentials.ts), plus `GH_HOST`, which binds one of them. */
export const BUILTIN_CREDENTIAL_ENV = new Set(["GH_TOKEN", "GITHUB_TOKEN", "GH_ENTERPRISE_TOKEN", "GITHUB_ENTERPRISE_TOKEN", "OPENAI_API_KEY", "GH_HOST"]);
const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

const refuse = (text: string) => invalidParams(`invalid network proxy config: ${text}`);

/** Checks every provider (the ids in order); throws -32602 for the first that cannot be used. */
export function compileProviders(configs: Record<string, CredentialProviderConfig>, allowLocalBinding: boolean): CustomProvider[] {
  const count = Object.values(configs).reduce((n, c) => n + (c.patterns?.length ?? 0), 0);
  if (count > MAX_CREDENTIAL_PATTERNS) throw refuse(`credential providers give ${count} patterns, more than ${MAX_CREDENTIAL_PATTERNS}`);
  // Before any is compiled: compiling is what costs.
  const expanded = Object.values(configs).reduce((n, c) => (c.patterns ?? []).reduce((m, p) => m + patternExpansion(p), n), 0);
  if (expanded > MAX_CREDENTIAL_PATTERN_EXPANSION) {
    throw refuse(`credential patterns expand to about ${expanded} regex instructions, more than ${MAX_CREDENTIAL_PATTERN_EXPANSION}`);
  }
  const owner = new Map<string, string>();
  return Object.entries(configs).map(([id, config]) => {
    const provider = compileProvider(id, config, allowLocalBinding);
    for (const name of provider.env) {
      const other = owner.get(name);
      if (other !== undefined) throw refuse(`credential providers \`${other}\` and \`${id}\` both name \`${name}\``);
      owner.set(name, id);
    }
    return provider;
  });
}

function compileProvider(id: string, config: CredentialProviderConfig, allowLocalBinding: boolean): CustomProvider {
  const env = config.env ?? [];
  if (env.some((k) => !ENV_KEY.test(k))) throw refuse(`credential provider \`${id}\` has an invalid environment key`);
  if (env.some((k) => BUILTIN_CREDENTIAL_ENV.has(k))) throw refuse(`credential provider \`${id}\` overlaps a built-in credential source`);
  const sources = config.patterns ?? [];
  if (sources.length === 0) throw refuse(`credential provider \`${id}\` has no credential patterns`);
  const patterns = sources.map((source) => {
    const compiled = compilePattern(source);
    if (typeof compiled === "string") throw refuse(`invalid credential pattern for provider \`${id}\`: ${compiled}`);
    // A pattern matching the empty string would take any value for a credential (the reference drops it too).
    if (matchesWhole(compiled, "")) throw refuse(`invalid credential pattern for provider \`${id}\`: it matches the empty string`);
    return compiled;
  });
  const prefixes = config.url_prefixes ?? [];
  if (prefixes.length === 0) throw refuse(`credential provider \`${id}\` has no destination URL prefixes`);
  const destinations = prefixes.map((prefix) => {
    const d = parseDestination(prefix);
    if (!d) throw refuse(`invalid destination for credential provider \`${id}\`: \`${prefix}\``);
    if (allowLocalBinding && bypassesProxy(d)) {
      throw refuse(`credential provider \`${id}\` has a destination the command reaches without the proxy under allowLocalBinding (NO_PROXY): \`${prefix}\``);
    }
    return d;
  });
  const auth = new Set<AuthMethod>(config.auth?.length ? config.auth : ["bearer"]);
  const header = config.header ?? null;
  if (auth.has("header") && (header === null || !HEADER_NAME.test(header))) throw refuse(`invalid header for credential provider \`${id}\``);
  return { id, env, patterns, destinations, auth, header: header?.toLowerCase() ?? null, prefix: config.prefix ?? "" };
}
