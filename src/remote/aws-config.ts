/**
 * `--aws-sigv4`'s credentials and region from the standard sources, in the
 * AWS SDK's order (checked against the 0.169.0 reference):
 *
 * - region: `--aws-region`, `AWS_REGION`, `AWS_DEFAULT_REGION`, then the
 *   profile's `region` in the config file;
 * - profile: `--aws-profile`, `AWS_PROFILE`, `default`;
 * - credentials: `AWS_ACCESS_KEY_ID` + `AWS_SECRET_ACCESS_KEY` (+
 *   `AWS_SESSION_TOKEN`) unless `--aws-profile` is given, then the profile's
 *   static keys (`AWS_SHARED_CREDENTIALS_FILE` or `~/.aws/credentials` first,
 *   then `AWS_CONFIG_FILE` or `~/.aws/config`).
 *
 * Not done: instance metadata, ECS, SSO, web identity, `credential_process`
 * and `role_arn` (a profile relying on them is refused, never guessed).
 */
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { RegistryError } from "./registry-error.ts";
import type { AwsCredentials, SigV4Scope } from "./sigv4.ts";

export const DEFAULT_AWS_SERVICE = "execute-api";

export type AwsFlags = { profile?: string; region?: string; service?: string };
type Env = Record<string, string | undefined>;

export function resolveAwsScope(flags: AwsFlags, env: Env = process.env, home = homedir()): SigV4Scope {
  const profile = flags.profile ?? nonEmpty(env.AWS_PROFILE) ?? "default";
  const credentialsFile = readIni(nonEmpty(env.AWS_SHARED_CREDENTIALS_FILE) ?? join(home, ".aws", "credentials"));
  const configFile = readIni(nonEmpty(env.AWS_CONFIG_FILE) ?? join(home, ".aws", "config"));
  const fromCredentials = credentialsFile.get(profile);
  const fromConfig = configFile.get(profile === "default" ? "default" : `profile ${profile}`);
  const region = flags.region ?? nonEmpty(env.AWS_REGION) ?? nonEmpty(env.AWS_DEFAULT_REGION) ?? fromConfig?.get("region");
  if (!region) throw new RegistryError("config", "AWS SDK config did not resolve a region");
  const credentials = (flags.profile === undefined ? fromEnv(env) : undefined) ?? staticKeys(fromCredentials) ?? staticKeys(fromConfig);
  if (!credentials) {
    // The reference's two texts: a profile named but unusable, or nothing found at all.
    const named = flags.profile !== undefined || nonEmpty(env.AWS_PROFILE) !== undefined;
    const why = named ? "the credentials provider was not properly configured" : "the credential provider was not enabled";
    throw new RegistryError(
      "auth",
      `environment registry authentication error: failed to resolve environment registry authentication: request auth build error: failed to load AWS credentials: ${why}`,
    );
  }
  return { credentials, region, service: flags.service ?? DEFAULT_AWS_SERVICE };
}

function fromEnv(env: Env): AwsCredentials | undefined {
  const accessKeyId = nonEmpty(env.AWS_ACCESS_KEY_ID);
  const secretAccessKey = nonEmpty(env.AWS_SECRET_ACCESS_KEY);
  if (!accessKeyId || !secretAccessKey) return undefined;
  return { accessKeyId, secretAccessKey, sessionToken: nonEmpty(env.AWS_SESSION_TOKEN) };
}

function staticKeys(section: Map<string, string> | undefined): AwsCredentials | undefined {
  const accessKeyId = section?.get("aws_access_key_id");
  const secretAccessKey = section?.get("aws_secret_access_key");
  if (!accessKeyId || !secretAccessKey) return undefined;
  return { accessKeyId, secretAccessKey, sessionToken: section?.get("aws_session_token") };
}

/** The sections of an AWS ini file (`[name]`, `key = value`, `#`/`;` comments); a missing file is empty. */
export function readIni(path: string): Map<string, Map<string, string>> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return new Map();
  }
  return parseIni(text);
}

export function parseIni(text: string): Map<string, Map<string, string>> {
  const sections = new Map<string, Map<string, string>>();
  let current: Map<string, string> | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const header = /^\[\s*(.+?)\s*\]$/.exec(line);
    if (header) {
      const name = header[1]!.replace(/\s+/g, " ");
      current = sections.get(name) ?? new Map();
      sections.set(name, current);
      continue;
    }
    const eq = line.indexOf("=");
    if (current && eq > 0 && !/^\s/.test(raw)) current.set(line.slice(0, eq).trim().toLowerCase(), line.slice(eq + 1).trim());
  }
  return sections;
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === "" ? undefined : v;
}
