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
 */
import { createHmac, randomBytes } from "node:crypto";
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

/** The credentials of one process: replaces them in its environment, and answers the proxy. */
export class CredentialBroker {
  private readonly brokered: Brokered[] = [];

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
    env[BROKER_ACTIVE_KEY] = "1";
    const marker = this.brokered.flatMap((b): [string, string][] => [[`@alias:${b.name}`, b.dummy], [b.name, b.dummy]]);
    marker.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    env[BROKERED_CREDENTIALS_KEY] = JSON.stringify(marker);
  }

  /** Whether a connection to `host` must be terminated: some credential of this child is for it. */
  covers(host: string): boolean {
    const h = normalizeHost(host);
    return this.brokered.some((b) => b.covers(h));
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
