/**
 * The built-in providers' dummies and rewriting (src/network/credentials.ts),
 * with the shapes probed on the 0.171.0 reference: the real value's prefix,
 * `masked`, then letters and digits, at least the real length and at least
 * 40 (GitHub) / 51 (OpenAI) characters.
 */
import { expect, test } from "bun:test";
import { compileProviders } from "../../src/network/credential-providers.ts";
import { BROKERED_CREDENTIALS_KEY, CredentialBroker } from "../../src/network/credentials.ts";

function masked(env: Record<string, string>) {
  const out = { ...env };
  const broker = new CredentialBroker();
  broker.mask(out);
  return { out, broker };
}

test("dummies keep the provider's prefix and the real length, with the reference's minimums", () => {
  const { out } = masked({
    OPENAI_API_KEY: "sk-proj-abcDEF123-xyz_abcdefghijklmnopqrstuvwxyz0123456789ABCD",
    GH_TOKEN: "github_pat_short",
    GITHUB_TOKEN: "gho_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGH",
  });
  expect(out.OPENAI_API_KEY).toMatch(/^sk-proj-masked[A-Za-z0-9]{48}$/);
  expect(out.GH_TOKEN).toMatch(/^github_pat_masked[A-Za-z0-9]{23}$/);
  expect(out.GITHUB_TOKEN).toMatch(/^gho_masked[A-Za-z0-9]{38}$/);
  expect(masked({ OPENAI_API_KEY: "sk-abc" }).out.OPENAI_API_KEY).toMatch(/^sk-masked[A-Za-z0-9]{42}$/);
  expect(masked({ OPENAI_API_KEY: "not-a-key" }).out.OPENAI_API_KEY).toMatch(/^sk-masked[A-Za-z0-9]{42}$/);
});

test("GH_ENTERPRISE_TOKEN is brokered only with a GH_HOST that is not GitHub's own; empty values are left alone", () => {
  expect(masked({ GH_ENTERPRISE_TOKEN: "ghp_x" }).out.GH_ENTERPRISE_TOKEN).toBe("ghp_x");
  expect(masked({ GH_ENTERPRISE_TOKEN: "ghp_x", GH_HOST: "api.github.com" }).out.GH_ENTERPRISE_TOKEN).toBe("ghp_x");
  const { out, broker } = masked({ GH_ENTERPRISE_TOKEN: "ghp_x", GH_HOST: "GHE.Example.com:8443", GITHUB_TOKEN: "" });
  expect(out.GH_ENTERPRISE_TOKEN).toMatch(/^ghp_masked/);
  expect(out.GITHUB_TOKEN).toBe("");
  expect(JSON.parse(out[BROKERED_CREDENTIALS_KEY]!)).toEqual([["@alias:GH_ENTERPRISE_TOKEN", out.GH_ENTERPRISE_TOKEN], ["GH_ENTERPRISE_TOKEN", out.GH_ENTERPRISE_TOKEN]]);
  expect([broker.covers("ghe.example.com", 443), broker.covers("github.com", 443), broker.covers("other.example.com", 443)]).toEqual([true, false, false]);
});

test("Authorization is restored only for the credential's own hosts, and left as sent when ambiguous", () => {
  const { out, broker } = masked({ GITHUB_TOKEN: "ghp_cloud", OPENAI_API_KEY: "sk-real" });
  const gh = out.GITHUB_TOKEN!;
  const oa = out.OPENAI_API_KEY!;
  expect(broker.authorization("api.github.com", `Bearer ${gh}`)).toBe("Bearer ghp_cloud");
  expect(broker.authorization("foo.ghe.com.", `token ${gh}`)).toBe("token ghp_cloud");
  expect(broker.authorization("api.openai.com", `Bearer ${gh}`)).toBe(`Bearer ${gh}`);
  expect(broker.authorization("example.com", `Bearer ${oa}`)).toBe(`Bearer ${oa}`);
  expect(broker.authorization("api.openai.com", `Bearer ${oa}`)).toBe("Bearer sk-real");
  // The same real value under two names restores; the same header holding two different credentials does not.
  const two = masked({ GH_TOKEN: "ghp_same", GITHUB_TOKEN: "ghp_same" });
  expect(two.broker.authorization("github.com", `Bearer ${two.out.GITHUB_TOKEN}`)).toBe("Bearer ghp_same");
  const diff = masked({ GH_TOKEN: "ghp_one", GITHUB_TOKEN: "ghp_two" });
  expect(diff.broker.authorization("github.com", `${diff.out.GH_TOKEN} ${diff.out.GITHUB_TOKEN}`)).toBe(`${diff.out.GH_TOKEN} ${diff.out.GITHUB_TOKEN}`);
});

test("custom provider: a loopback http:// prefix is restored on plain HTTP to its port and path only", () => {
  const [provider] = compileProviders({ local: { env: ["LOCAL_KEY"], patterns: ["^lk_[a-z0-9]{8,}$"], url_prefixes: ["http://127.0.0.1:8080/api"] } }, false);
  const broker = new CredentialBroker([provider!]);
  const env: Record<string, string> = { LOCAL_KEY: "lk_realvalue1" };
  broker.mask(env);
  const dummy = env.LOCAL_KEY!;
  expect(dummy).toMatch(/^lk_[a-z0-9]{8,}$/);
  const at = (port: number, path: string, scheme: "http" | "https" = "http") => broker.restoreHeaders({ scheme, host: "127.0.0.1", port, path }, [`Authorization: Bearer ${dummy}`])[0];
  expect([broker.coversPlain("127.0.0.1", 8080), broker.coversPlain("127.0.0.1", 8081), broker.covers("127.0.0.1", 8080)]).toEqual([true, false, false]);
  expect(at(8080, "/api/v1")).toBe("Authorization: Bearer lk_realvalue1");
  expect([at(8081, "/api/v1"), at(8080, "/apiv1"), at(8080, "/api/v1", "https")]).toEqual(Array(3).fill(`Authorization: Bearer ${dummy}`));
  // `..;` is `..` to a servlet container: /api/..;/admin is /admin there.
  expect([at(8080, "/api/..;/admin"), at(8080, "/api/%2e%2E;x/admin"), at(8080, "/api/.;/v1")]).toEqual(Array(3).fill(`Authorization: Bearer ${dummy}`));
  expect(at(8080, "/api/v1;x/..a")).toBe("Authorization: Bearer lk_realvalue1");
});

test("a real value copied under another name (a login profile's export, restored from the shell snapshot) gets the dummy there too", () => {
  const real = "ghp_realTOKEN0123456789abcdefghijklmnopqr";
  const { out } = masked({ GH_TOKEN: real, COPY: real, WRAPPED: `Bearer ${real};x`, SHORT_OK: "ghp_", PATH: "/usr/bin:/bin" });
  expect([out.COPY, out.WRAPPED, out.SHORT_OK, out.PATH]).toEqual([out.GH_TOKEN, `Bearer ${out.GH_TOKEN};x`, "ghp_", "/usr/bin:/bin"]);
  expect(Object.values(out).some((v) => v.includes(real))).toBe(false);
  // A value shorter than MIN_COPIED_CREDENTIAL_LENGTH is masked under its own name only.
  const short = masked({ GH_TOKEN: "ghp_abc", OTHER: "x ghp_abc" }).out;
  expect(short.OTHER).toBe("x ghp_abc");
});
