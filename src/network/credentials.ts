/**
 * Credential masking's built-in providers (capabilities.md; names, hosts and
 * dummy shapes probed on 0.171.0): the child's `GH_TOKEN`/`GITHUB_TOKEN`
 * (github.com, api.github.com, `*.ghe.com`), `GH_ENTERPRISE_TOKEN`/
 * `GITHUB_ENTERPRISE_TOKEN` (the host in `GH_HOST`, unless that is GitHub's
 * own) and `OPENAI_API_KEY` (api.openai.com) are replaced by dummies of the
 * same prefix (`ghp_masked…`, `sk-proj-masked…`) and at least the real
 * length; the proxy puts the real value back into `Authorization` only on
 * requests to that provider's hosts (src/network/mitm/). A dummy is stable
 * for one executor (the same real value gets the same dummy in every process).
 * Custom providers (credential-providers.ts) are brokered beside them: their
 * dummies come from their patterns (credential-dummy.ts), their real values
 * go only to their url prefixes (credential-destination.ts), in the headers
 * their `auth` names (credential-headers.ts).
 */
import { createHmac, randomBytes } from "node:crypto";
import { invalidParams } from "../protocol/errors.ts";
import { destinationHost, destinationMatches } from "./credential-destination.ts";
import { makeDummy, matchesWhole } from "./credential-dummy.ts";
import { translateHeader } from "./credential-headers.ts";
import type { CustomProvider } from "./credential-providers.ts";
import { normalizeHost } from "./policy.ts";

export const BROKER_ACTIVE_KEY = "CODEX_NETWORK_PROXY_CREDENTIAL_BROKER_ACTIVE";
export const BROKERED_CREDENTIALS_KEY = "CODEX_NETWORK_PROXY_BROKERED_CREDENTIALS";

type Provider = { env: string[]; dummyPrefix: (real: string) => string; minLength: number; hosts: (env: Record<string, string>) => ((host: string) => boolean) | null };

const GITHUB_PREFIXES = ["github_pat_", "ghp_", "gho_", "ghu_", "ghs_", "ghr_"];
const githubCloud = (host: string) => host === "github.com" || host === "api.github.com" || host.endsWith(".ghe.com");
const githubPrefix = (real: string) => GITHUB_PREFIXES.find((p) => real.startsWith(p)) ?? "ghp_";
/** `sk-proj-…` keeps `sk-proj-`, anything else `sk-`. */
const openaiPrefix = (real: string) => /^sk-[A-Za-z0-9]+-/.exec(real)?.[0] ?? "sk-";

const PROVIDERS: Provider[] = [
  { env: ["GH_TOKEN", "GITHUB_TOKEN"], dummyPrefix: githubPrefix, minLength: 40, hosts: () => githubCloud },
  {
    env: ["GH_ENTERPRISE_TOKEN", "GITHUB_ENTERPRISE_TOKEN"],
    dummyPrefix: githubPrefix,
    minLength: 40,
    hosts: (env) => {
      // `GH_HOST` is a bare host, maybe with a port (as gh reads it).
      const host = normalizeHost((env.GH_HOST ?? "").trim().replace(/:\d+$/, ""));
      return host === "" || githubCloud(host) ? null : (h) => h === host;
    },
  },
  { env: ["OPENAI_API_KEY"], dummyPrefix: openaiPrefix, minLength: 51, hosts: () => (h) => h === "api.openai.com" },
];

/** One credential a process's child holds a dummy of. */
type Brokered = { name: string; real: string; dummy: string; covers: (host: string) => boolean };
/** One credential of a custom provider (credential-providers.ts) a child holds a dummy of. */
type CustomBrokered = { provider: CustomProvider; name: string; real: string; dummy: string };

/** The request a header travels in: the scheme it reaches the origin by, where it goes, its raw path. */
export type RequestTarget = { scheme: "http" | "https"; host: string; port: number; path: string };

const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
/** Per-executor key for the dummies: stable within this executor, unguessable across them. */
const DUMMY_KEY = randomBytes(32);

function dummyFor(provider: Provider, name: string, real: string): string {
  const head = `${provider.dummyPrefix(real)}masked`;
  const length = Math.max(real.length, provider.minLength, head.length + 16);
  let out = head;
  for (let block = 0; out.length < length; block++) {
    const bytes = createHmac("sha256", DUMMY_KEY).update(`${block}\0${provider.env[0]}\0${name}\0${real}`).digest();
    for (const b of bytes) if (out.length < length && b < 248) out += ALNUM[b % 62];
  }
  return out;
}

/**
 * Shortest real value also masked where it stands in other variables: a token
 * is far longer; a shorter value could be part of unrelated text (a path).
 */
export const MIN_COPIED_CREDENTIAL_LENGTH = 8;

/**
 * A real value under another name becomes its dummy there too: a login
 * profile's `export COPY=$GH_TOKEN` comes back in the shell snapshot's
 * environment (captured unmasked), and the child must not get it that way.
 */
function maskCopies(env: Record<string, string>, all: { real: string; dummy: string }[]): void {
  const copied = all.filter((b) => b.real.length >= MIN_COPIED_CREDENTIAL_LENGTH);
  for (const [name, value] of Object.entries(env)) {
    const masked = copied.reduce((v, b) => v.replaceAll(b.real, b.dummy), value);
    if (masked !== value) env[name] = masked;
  }
}

/** The credentials of one process: replaces them in its environment, and answers the proxy. */
export class CredentialBroker {
  private readonly brokered: Brokered[] = [];
  private readonly custom: CustomBrokered[] = [];

  constructor(private readonly providers: CustomProvider[] = []) {}

  /** Replaces every provider's credential in `env` by its dummy and adds the broker's two variables. */
  mask(env: Record<string, string>): void {
    for (const provider of PROVIDERS) {
      const covers = provider.hosts(env);
      if (!covers) continue;
      for (const name of provider.env) {
        const real = env[name]?.trim();
        if (!real) continue;
        const dummy = dummyFor(provider, name, real);
        this.brokered.push({ name, real, dummy, covers });
        env[name] = dummy;
      }
    }
    this.maskCustom(env);
    const all = [...this.brokered, ...this.custom];
    maskCopies(env, all);
    env[BROKER_ACTIVE_KEY] = "1";
    const marker = all.flatMap((b): [string, string][] => [[`@alias:${b.name}`, b.dummy], [b.name, b.dummy]]);
    marker.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    env[BROKERED_CREDENTIALS_KEY] = JSON.stringify(marker);
  }

  /**
   * A custom provider's variables: a value one of its patterns matches whole
   * becomes a dummy generated from that pattern; any other value is not that
   * provider's credential and stays (as on the reference). A value no dummy
   * can be made for refuses the start.
   */
  private maskCustom(env: Record<string, string>): void {
    for (const provider of this.providers) {
      for (const name of provider.env) {
        const real = env[name]?.trim();
        const pattern = real ? provider.patterns.find((p) => matchesWhole(p, real)) : undefined;
        if (!real || !pattern) continue;
        const dummy = makeDummy(pattern, `${provider.id}\0${name}`, real);
        if (dummy === null) {
          throw invalidParams(`invalid network proxy config: no dummy for \`${name}\` (credential provider \`${provider.id}\`) can be generated from the pattern \`${pattern.source}\`: its dummies must be printable, non-empty and differ from the credential`);
        }
        this.custom.push({ provider, name, real, dummy });
        env[name] = dummy;
      }
    }
  }

  /** Whether a CONNECT to `host:port` must be terminated: some credential of this child is for it. */
  covers(host: string, port: number): boolean {
    const h = normalizeHost(host);
    return this.brokered.some((b) => b.covers(h)) || this.custom.some((c) => c.provider.destinations.some((d) => d.scheme === "https" && destinationHost(d, h, port)));
  }

  /** Whether a plain-HTTP request to `host:port` may carry a custom credential (a loopback `http://` destination). */
  coversPlain(host: string, port: number): boolean {
    return this.custom.some((c) => c.provider.destinations.some((d) => d.scheme === "http" && destinationHost(d, host, port)));
  }

  /**
   * A request's header lines with dummies swapped for the real values: the
   * built-in providers' in `Authorization` (for their hosts), the custom ones'
   * where their `auth` puts them (for their url prefixes). A header two
   * different credentials would rewrite is left as sent.
   */
  restoreHeaders(target: RequestTarget, lines: string[]): string[] {
    const mine = this.custom.filter((c) => c.provider.destinations.some((d) => destinationMatches(d, target.scheme, target.host, target.port, target.path)));
    return lines.map((line) => {
      const colon = line.indexOf(":");
      if (colon < 0) return line;
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      const builtin = name === "authorization" && target.scheme === "https" ? this.authorization(target.host, value) : value;
      if (builtin !== value) return `${line.slice(0, colon)}: ${builtin}`;
      const translated = new Set(mine.flatMap((c) => translateHeader({ ...c.provider, dummy: c.dummy, real: c.real }, name, value) ?? []));
      return translated.size === 1 ? `${line.slice(0, colon)}: ${[...translated][0]}` : line;
    });
  }

  /**
   * The request's `Authorization` with the dummy of a credential for `host`
   * replaced by the real value; unchanged when it holds none, or the dummies
   * of two different credentials (ambiguous, as the reference treats it).
   */
  authorization(host: string, value: string): string {
    const h = normalizeHost(host);
    const hits = this.brokered.filter((b) => b.covers(h) && value.includes(b.dummy));
    const reals = new Set(hits.map((b) => b.real));
    if (reals.size !== 1) return value;
    return value.replaceAll(hits[0]!.dummy, hits[0]!.real);
  }
}
