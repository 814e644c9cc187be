/**
 * Which credential the executor presents to the registry (remote.md §2.2),
 * from the parsed flags: `--registration-bearer-stdin` (one line read from
 * stdin), `--aws-sigv4` (the AWS chain), else `CODEX_API_KEY`. The ChatGPT
 * login and Agent Identity sources of the reference are refused at parse time.
 */
import { type AwsFlags, resolveAwsScope } from "./aws-config.ts";
import { type RegistryAuth, readRegistrationBearer } from "./registry-auth.ts";
import { RegistryError } from "./registry-error.ts";
import { isLoopbackHost } from "./registry.ts";

type Env = Record<string, string | undefined>;

/** The parts of the CLI's RemoteOptions that choose the credential. */
export type CredentialFlags = { baseUrl: string; registrationBearerStdin: boolean; aws?: AwsFlags };

/** Reads stdin only for `--registration-bearer-stdin`. Errors are RegistryError ("config"/"auth"), exit 1. */
export async function registryAuthFor(remote: CredentialFlags, env: Env, stdin: AsyncIterable<Uint8Array>): Promise<RegistryAuth> {
  if (remote.registrationBearerStdin) return { kind: "bearer", token: await readRegistrationBearer(stdin), fromStdin: true };
  if (remote.aws) return { kind: "sigv4", scope: resolveAwsScope(remote.aws, env) };
  const apiKey = env.CODEX_API_KEY;
  if (apiKey === undefined || apiKey === "") {
    throw new RegistryError(
      "config",
      "remote exec-server registration requires ChatGPT authentication or API key authentication; set CODEX_API_KEY or pass --registration-bearer-stdin or --aws-sigv4",
    );
  }
  if (!apiKeyHostAllowed(remote.baseUrl)) {
    throw new RegistryError("config", "remote exec-server API-key authentication is restricted to HTTPS openai.com and openai.org hosts and subdomains or loopback hosts");
  }
  return { kind: "bearer", token: apiKey, fromStdin: false };
}

/**
 * The reference sends CODEX_API_KEY only to https on openai.com / openai.org
 * (or a subdomain), or to a loopback host over http(s): observed refusing
 * `ftp://127.0.0.1` and `http://0.0.0.0`, accepting `http://localhost`.
 */
export function apiKeyHostAllowed(baseUrl: string): boolean {
  let url: URL;
  try {
    url = new URL(baseUrl.trim());
  } catch {
    return true; // Not a URL: the registry client reports that with the reference's text.
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return false;
  if (isLoopbackHost(url.hostname)) return true;
  const host = url.hostname.toLowerCase();
  return url.protocol === "https:" && ["openai.com", "openai.org"].some((d) => host === d || host.endsWith(`.${d}`));
}
