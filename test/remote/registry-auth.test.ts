import { afterAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { resolveAwsScope } from "../../src/remote/aws-config.ts";
import { REGISTRATION_BEARER_MAX_BYTES } from "../../src/remote/limits.ts";
import { parseRegistrationBearer, readRegistrationBearer } from "../../src/remote/registry-auth.ts";
import { apiKeyHostAllowed, registryAuthFor } from "../../src/remote/registry-credentials.ts";
import { tempDir } from "../helpers/server.ts";

const bytes = (s: string) => new TextEncoder().encode(s);
const NOT_A_LINE = "expected a newline-terminated registration bearer of at most 16 KiB";

describe("--registration-bearer-stdin line (the reference's answers)", () => {
  test("accepted: one line, CR dropped, any visible ASCII, the rest of stdin ignored", () => {
    expect(parseRegistrationBearer(bytes("tok-123\n"))).toBe("tok-123");
    expect(parseRegistrationBearer(bytes("tok\r\n"))).toBe("tok");
    expect(parseRegistrationBearer(bytes("a.b-c_d~e+f/g==\n"))).toBe("a.b-c_d~e+f/g==");
    expect(parseRegistrationBearer(bytes('a,b;c"d\n'))).toBe('a,b;c"d');
    expect(parseRegistrationBearer(bytes("tok-123\ntok-456\n"))).toBe("tok-123");
    expect(parseRegistrationBearer(bytes(`${"x".repeat(REGISTRATION_BEARER_MAX_BYTES - 1)}\n`))).toHaveLength(16383);
  });
  test("refused: no newline, over 16 KiB with it, empty, whitespace, control or non-ASCII bytes", () => {
    const cases: [string, string][] = [
      ["tok-123", NOT_A_LINE],
      ["", NOT_A_LINE],
      [`${"x".repeat(REGISTRATION_BEARER_MAX_BYTES)}\n`, NOT_A_LINE],
      [`${"x".repeat(REGISTRATION_BEARER_MAX_BYTES - 1)}\r\n`, NOT_A_LINE],
      ["\n", "invalid registration bearer"],
      ["\r\n", "invalid registration bearer"],
      ["  tok  \n", "invalid registration bearer"],
      ["tok en\n", "invalid registration bearer"],
      ["tok\tx\n", "invalid registration bearer"],
      ["x\x7f\n", "invalid registration bearer"],
      ["tök\n", "invalid registration bearer"],
    ];
    for (const [input, message] of cases) expect(() => parseRegistrationBearer(bytes(input))).toThrow(message);
  });
  test("read from a stream in pieces, stopping at the first newline", async () => {
    async function* pieces() {
      yield bytes("tok-");
      yield bytes("123\nnext");
      throw new Error("read past the line");
    }
    expect(await readRegistrationBearer(pieces())).toBe("tok-123");
  });
});

describe("AWS credentials and region", () => {
  const dir = tempDir();
  afterAll(() => dir[Symbol.dispose]());
  const credentials = join(dir.path, "credentials");
  const config = join(dir.path, "config");
  writeFileSync(credentials, "[p]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = secretprofile\n[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = secretdefault\n");
  writeFileSync(config, "[profile p]\nregion = ap-south-1\n[default]\nregion = us-west-2\n[profile q]\naws_access_key_id = AKIDQ\naws_secret_access_key = sq\nregion = sa-east-1\n[profile sso]\nsso_start_url = https://example.invalid\n");
  const files = { AWS_SHARED_CREDENTIALS_FILE: credentials, AWS_CONFIG_FILE: config };
  const envKeys = { AWS_ACCESS_KEY_ID: "AKIDENV", AWS_SECRET_ACCESS_KEY: "x" };
  const key = (flags: Parameters<typeof resolveAwsScope>[0], env: Record<string, string>) => {
    const s = resolveAwsScope(flags, { ...files, ...env }, dir.path);
    return [s.credentials.accessKeyId, s.region, s.service];
  };

  // Each row was observed on the 0.169.0 reference (the Credential= scope it signed with).
  test("precedence as the reference's AWS SDK", () => {
    expect(key({}, {})).toEqual(["AKIDDEFAULT", "us-west-2", "execute-api"]);
    expect(key({}, envKeys)).toEqual(["AKIDENV", "us-west-2", "execute-api"]);
    expect(key({ profile: "p" }, envKeys)).toEqual(["AKIDPROFILE", "ap-south-1", "execute-api"]);
    expect(key({}, { ...envKeys, AWS_PROFILE: "p" })).toEqual(["AKIDENV", "ap-south-1", "execute-api"]);
    expect(key({}, { AWS_PROFILE: "p" })).toEqual(["AKIDPROFILE", "ap-south-1", "execute-api"]);
    expect(key({ profile: "q" }, { AWS_PROFILE: "p" })).toEqual(["AKIDQ", "sa-east-1", "execute-api"]);
    expect(key({ profile: "p" }, { AWS_DEFAULT_REGION: "eu-north-1" })).toEqual(["AKIDPROFILE", "eu-north-1", "execute-api"]);
    expect(key({}, { AWS_REGION: "eu-west-3", AWS_DEFAULT_REGION: "eu-north-1" })).toEqual(["AKIDDEFAULT", "eu-west-3", "execute-api"]);
    expect(key({ region: "me-south-1", service: "svc" }, { AWS_REGION: "eu-west-3" })).toEqual(["AKIDDEFAULT", "me-south-1", "svc"]);
    expect(resolveAwsScope({}, { ...envKeys, AWS_SESSION_TOKEN: "tok", AWS_REGION: "r" }, dir.path).credentials.sessionToken).toBe("tok");
  });
  test("the reference's errors: no region, no credentials, a profile without static keys", () => {
    const none = { AWS_SHARED_CREDENTIALS_FILE: join(dir.path, "absent"), AWS_CONFIG_FILE: join(dir.path, "absent") };
    expect(() => resolveAwsScope({}, { ...none, ...envKeys }, dir.path)).toThrow("AWS SDK config did not resolve a region");
    expect(() => resolveAwsScope({ profile: "nope" }, files, dir.path)).toThrow("AWS SDK config did not resolve a region");
    const prefix = "environment registry authentication error: failed to resolve environment registry authentication: request auth build error: failed to load AWS credentials: ";
    expect(() => resolveAwsScope({}, { ...none, AWS_REGION: "r", AWS_ACCESS_KEY_ID: "AKIDENV" }, dir.path)).toThrow(`${prefix}the credential provider was not enabled`);
    expect(() => resolveAwsScope({ profile: "nope" }, { ...files, AWS_REGION: "r" }, dir.path)).toThrow(`${prefix}the credentials provider was not properly configured`);
    expect(() => resolveAwsScope({ profile: "sso", region: "r" }, files, dir.path)).toThrow(`${prefix}the credentials provider was not properly configured`);
  });
});

describe("which credential goes to the registry", () => {
  const remote = { baseUrl: "http://127.0.0.1:1", environmentId: "e", transport: "noise" as const, registrationBearerStdin: false };
  async function* stdin(text: string) {
    yield bytes(text);
  }
  test("stdin bearer, then AWS, then CODEX_API_KEY", async () => {
    expect(await registryAuthFor({ ...remote, registrationBearerStdin: true }, { CODEX_API_KEY: "k" }, stdin("tok\n"))).toEqual({ kind: "bearer", token: "tok", fromStdin: true });
    expect(await registryAuthFor(remote, { CODEX_API_KEY: "k" }, stdin(""))).toEqual({ kind: "bearer", token: "k", fromStdin: false });
    const aws = await registryAuthFor({ ...remote, aws: { region: "r" } }, { AWS_ACCESS_KEY_ID: "A", AWS_SECRET_ACCESS_KEY: "S", AWS_CONFIG_FILE: "/nonexistent", AWS_SHARED_CREDENTIALS_FILE: "/nonexistent" }, stdin(""));
    expect(aws).toEqual({ kind: "sigv4", scope: { credentials: { accessKeyId: "A", secretAccessKey: "S", sessionToken: undefined }, region: "r", service: "execute-api" } });
    await expect(registryAuthFor(remote, {}, stdin(""))).rejects.toThrow("remote exec-server registration requires ChatGPT authentication or API key authentication");
  });
  test("CODEX_API_KEY goes only to https openai.com/.org hosts or loopback, as on the reference", () => {
    const allowed = ["http://127.0.0.1:1", "http://localhost:1", "https://127.0.0.1", "http://[::1]:1", "https://api.openai.com", "https://openai.org/x", "notaurl"];
    const refused = ["ftp://127.0.0.1:1", "http://0.0.0.0:1", "http://api.openai.com", "https://openai.com.evil.example", "https://notopenai.com"];
    expect(allowed.map(apiKeyHostAllowed)).toEqual(allowed.map(() => true));
    expect(refused.map(apiKeyHostAllowed)).toEqual(refused.map(() => false));
  });
});
