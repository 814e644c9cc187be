/**
 * Custom credential providers (`proxy.credentialProviders` beside
 * `credentialMasking: true`) against a real executor (EXECBOX_BIN when set),
 * with the reference's behaviour as probed on 0.171.0
 * (test/network/credential-provider-probe.ts): the child holds a dummy its
 * provider's pattern matches; a CONNECT to a url prefix's host is terminated
 * and the real value replaces the dummy only on that prefix's paths and only
 * where `auth` puts it. The origin is a loopback HTTPS server named
 * vendor.test in the executor's private mount namespace (the host's
 * /etc/hosts is untouched), trusted through NODE_EXTRA_CA_CERTS.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import { MAX_CREDENTIAL_PATTERNS, MAX_CREDENTIAL_PATTERN_BYTES, MAX_CREDENTIAL_PATTERN_EXPANSION, patternExpansion } from "../../src/network/credential-dummy.ts";
import { MitmAuthority } from "../../src/network/mitm/authority.ts";
import { networkProxyLaunch } from "../helpers/network-proxy.ts";
import { RawClient } from "../helpers/rpc-client.ts";
import { type RunningServer, tempDir } from "../helpers/server.ts";
import { type TlsOrigin, startMaskedExecutor, startTlsOrigin } from "../helpers/tls-origin.ts";

setDefaultTimeout(30_000);

const dir = tempDir();
const REAL = "sk_live_AbC123xyz";
const PATTERN = "^sk_live_[A-Za-z0-9]+$";
let origin: TlsOrigin;
let server: RunningServer;
let c: RawClient;
let base = "";

beforeAll(async () => {
  const ca = await MitmAuthority.create(join(dir.path, "origin-ca"));
  origin = await startTlsOrigin(ca, { path: true, headers: ["x-api-key"] });
  base = `https://vendor.test:${origin.port}`;
  ({ server, client: c } = await startMaskedExecutor(dir.path, ["vendor.test"], { NODE_EXTRA_CA_CERTS: ca.files.caPath }));
});
afterAll(async () => {
  c?.close();
  await server?.stop("SIGKILL");
  origin?.close();
  dir[Symbol.dispose]();
});

const vendor = (extra: Record<string, unknown> = {}) => ({ vendor: { env: ["VENDOR_TOKEN"], patterns: [PATTERN], url_prefixes: [`${base}/api`], auth: ["bearer"], ...extra } });
let n = 0;

async function start(script: string, providers: Record<string, unknown>, proxyExtra: Record<string, unknown> = {}) {
  const processId = `cp${++n}`;
  const proxy = { credentialMasking: true, allowLocalBinding: true, domains: { "vendor.test": "allow" }, credentialProviders: providers, ...proxyExtra };
  const r = await c.call("process/start", { processId, argv: ["bash", "-c", script], cwd: dir.uri, env: { PATH: "/usr/bin:/bin", VENDOR_TOKEN: REAL }, tty: false, networkProxy: networkProxyLaunch(proxy) });
  if (r.error) return { error: r.error, out: "" };
  await c.processDone(processId, 20_000);
  return { error: undefined, out: c.output(processId, "stdout").toString() };
}

const curl = (path: string, header: string) => `curl -sS ${base}${path} -H "${header}"`;

test("the child holds a dummy its pattern matches; the real value arrives only on the prefix's paths, only as Bearer", async () => {
  const script = [
    'echo "child=$VENDOR_TOKEN"; echo "$CODEX_NETWORK_PROXY_BROKERED_CREDENTIALS"',
    curl("/api/x", "Authorization: Bearer $VENDOR_TOKEN"),
    curl("/api", "Authorization: bearer $VENDOR_TOKEN"),
    curl("/api/x?q=1", "Authorization: Bearer $VENDOR_TOKEN"),
    curl("/apix", "Authorization: Bearer $VENDOR_TOKEN"),
    curl("/other", "Authorization: Bearer $VENDOR_TOKEN"),
    `${curl("/api/../x", "Authorization: Bearer $VENDOR_TOKEN")} --path-as-is`,
    curl("/api/x", "Authorization: token $VENDOR_TOKEN"),
    curl("/api/x", "Authorization: Bearer x$VENDOR_TOKEN"),
  ].join("; ");
  const { error, out } = await start(script, vendor());
  expect(error).toBeUndefined();
  const dummy = /child=(\S+)/.exec(out)![1]!;
  expect(dummy).toMatch(/^sk_live_[A-Za-z0-9]+$/);
  expect(dummy).not.toBe(REAL);
  const h = `vendor.test:${origin.port}`;
  expect(out).toBe(
    [
      `child=${dummy}`,
      JSON.stringify([["@alias:VENDOR_TOKEN", dummy], ["VENDOR_TOKEN", dummy]]),
      `${h} /api/x auth=Bearer ${REAL} x-api-key=-`,
      `${h} /api auth=bearer ${REAL} x-api-key=-`,
      `${h} /api/x?q=1 auth=Bearer ${REAL} x-api-key=-`,
      `${h} /apix auth=Bearer ${dummy} x-api-key=-`,
      `${h} /other auth=Bearer ${dummy} x-api-key=-`,
      `${h} /api/../x auth=Bearer ${dummy} x-api-key=-`,
      `${h} /api/x auth=token ${dummy} x-api-key=-`,
      `${h} /api/x auth=Bearer x${dummy} x-api-key=-`,
      "",
    ].join("\n"),
  );
  // The same real value keeps its dummy in the next process of this executor.
  expect((await start('echo "$VENDOR_TOKEN"', vendor())).out).toBe(`${dummy}\n`);
});

test("token, basic and a named header with its prefix are rewritten where auth lists them; Bearer then is not", async () => {
  const script = [
    'echo "child=$VENDOR_TOKEN"',
    curl("/api/x", "Authorization: token $VENDOR_TOKEN"),
    `curl -sS ${base}/api/x -u "user:$VENDOR_TOKEN"`,
    curl("/api/x", "x-api-key: K $VENDOR_TOKEN"),
    curl("/api/x", "x-api-key: $VENDOR_TOKEN"),
    curl("/api/x", "Authorization: Bearer $VENDOR_TOKEN"),
  ].join("; ");
  const { error, out } = await start(script, vendor({ auth: ["token", "basic", "header"], header: "x-api-key", prefix: "K " }));
  expect(error).toBeUndefined();
  const dummy = /child=(\S+)/.exec(out)![1]!;
  const h = `vendor.test:${origin.port}`;
  const basic = (password: string) => `Basic ${Buffer.from(`user:${password}`).toString("base64")}`;
  expect(out).toBe(
    [
      `child=${dummy}`,
      `${h} /api/x auth=token ${REAL} x-api-key=-`,
      `${h} /api/x auth=${basic(REAL)} x-api-key=-`,
      `${h} /api/x auth=- x-api-key=K ${REAL}`,
      `${h} /api/x auth=- x-api-key=${dummy}`,
      `${h} /api/x auth=Bearer ${dummy} x-api-key=-`,
      "",
    ].join("\n"),
  );
});

test("a value no pattern matches whole is not the provider's credential: it stays, as on the reference", async () => {
  const { error, out } = await start('echo "$VENDOR_TOKEN $CODEX_NETWORK_PROXY_BROKERED_CREDENTIALS"', vendor({ patterns: ["^sk_test_[a-z]+$", "sk_live_"] }));
  expect(error).toBeUndefined();
  expect(out).toBe(`${REAL} []\n`);
});

test("wire errors are the reference's serde texts, with or without credentialMasking", async () => {
  for (const masking of [true, false]) {
    expect((await start("true", vendor({ auth: ["nope"] }), { credentialMasking: masking })).error).toEqual({ code: -32602, message: "unknown variant `nope`, expected one of `bearer`, `token`, `basic`, `header`" });
    expect((await start("true", vendor({ bogus: 1 }), { credentialMasking: masking })).error).toEqual({ code: -32602, message: "unknown field `bogus`, expected one of `env`, `patterns`, `url_prefixes`, `url_prefix_from_env`, `auth`, `header`, `prefix`" });
    expect((await start("true", vendor({ auth: "bearer" }), { credentialMasking: masking })).error).toEqual({ code: -32602, message: 'invalid type: string "bearer", expected a sequence' });
  }
});

test("a provider that cannot be used is refused before anything runs (the reference drops it and hands over the real value)", async () => {
  const cases: [Record<string, unknown>, string, Record<string, unknown>?][] = [
    [{ patterns: [] }, "credential provider `vendor` has no credential patterns"],
    [{ patterns: ["(abc"] }, "invalid credential pattern for provider `vendor`: error parsing regexp: missing closing ): `(abc`"],
    [{ patterns: ["a".repeat(MAX_CREDENTIAL_PATTERN_BYTES + 1)] }, `invalid credential pattern for provider \`vendor\`: credential pattern exceeds ${MAX_CREDENTIAL_PATTERN_BYTES} bytes`],
    [{ patterns: ["^[a-z]*$"] }, "invalid credential pattern for provider `vendor`: it matches the empty string"],
    [{ patterns: ["^x{600}$"] }, "invalid credential pattern for provider `vendor`: its dummies could be longer than 512 characters"],
    [{ env: ["BAD=KEY"] }, "credential provider `vendor` has an invalid environment key"],
    [{ env: ["GITHUB_TOKEN"] }, "credential provider `vendor` overlaps a built-in credential source"],
    [{ url_prefixes: [] }, "credential provider `vendor` has no destination URL prefixes"],
    [{ url_prefixes: ["http://vendor.test/"] }, "invalid destination for credential provider `vendor`: `http://vendor.test/`"],
    [{ url_prefixes: ["https://vendor.test/a?b=1"] }, "invalid destination for credential provider `vendor`: `https://vendor.test/a?b=1`"],
    [{ auth: ["header"] }, "invalid header for credential provider `vendor`"],
    [{ url_prefixes: ["http://127.0.0.1:9/api"] }, "credential provider `vendor` has a destination the command reaches without the proxy under allowLocalBinding (NO_PROXY): `http://127.0.0.1:9/api`"],
    [{ patterns: ["^sk_live_AbC123xyz$"] }, "no dummy for `VENDOR_TOKEN` (credential provider `vendor`) can be generated from the pattern `^sk_live_AbC123xyz$`: its dummies must be printable, non-empty and differ from the credential"],
  ];
  for (const [extra, message] of cases) {
    const r = await start(`touch ${dir.path}/ran`, vendor(extra));
    expect([extra, r.error]).toEqual([extra, { code: -32602, message: `invalid network proxy config: ${message}` }]);
  }
  expect(await Bun.file(join(dir.path, "ran")).exists()).toBe(false);
});

test("a hostile pattern costs no time: nested unbounded repetition is refused at once, before any generation", async () => {
  const began = performance.now();
  const { error } = await start("true", vendor({ patterns: ["^sk_live_((a+)+)+[A-Za-z0-9]*$"] }));
  expect(error).toEqual({ code: -32602, message: "invalid network proxy config: invalid credential pattern for provider `vendor`: its dummies could be longer than 512 characters" });
  expect(performance.now() - began).toBeLessThan(5_000);
});

test("patterns that together expand past MAX_CREDENTIAL_PATTERN_EXPANSION are refused before any is compiled (each compile held the event loop)", async () => {
  // Each is short, its dummies at most 502 characters, and ~2,000 RE2 instructions (~3 ms to compile warm, 20-40 ms cold).
  const patterns = ["a", "c", "e", "g", "i"].map((x) => `^${x}(x?){500}z$`);
  const expanded = patterns.reduce((n, p) => n + patternExpansion(p), 0);
  expect(expanded).toBeGreaterThan(MAX_CREDENTIAL_PATTERN_EXPANSION);
  const { error } = await start(`touch ${dir.path}/ran-expanded`, vendor({ patterns }));
  expect(error).toEqual({ code: -32602, message: `invalid network proxy config: credential patterns expand to about ${expanded} regex instructions, more than ${MAX_CREDENTIAL_PATTERN_EXPANSION}` });
  expect(await Bun.file(join(dir.path, "ran-expanded")).exists()).toBe(false);
  // Four of them fit.
  expect((await start("true", vendor({ patterns: patterns.slice(0, 4) }))).error).toBeUndefined();
});

test("more patterns than MAX_CREDENTIAL_PATTERNS across providers are refused before any is compiled", async () => {
  const half = Array.from({ length: MAX_CREDENTIAL_PATTERNS / 2 }, (_, i) => `^sk_live_${i}[A-Za-z0-9]+$`);
  const other = { other: { env: ["OTHER_TOKEN"], patterns: [...half, "^x{600}$"], url_prefixes: [`${base}/other`] } };
  const { error } = await start(`touch ${dir.path}/ran-many`, { ...vendor({ patterns: half }), ...other });
  expect(error).toEqual({ code: -32602, message: `invalid network proxy config: credential providers give ${MAX_CREDENTIAL_PATTERNS + 1} patterns, more than ${MAX_CREDENTIAL_PATTERNS}` });
  expect(await Bun.file(join(dir.path, "ran-many")).exists()).toBe(false);
  // At the bound they are compiled and the command runs.
  expect((await start("true", { ...vendor({ patterns: half }), other: { ...other.other, patterns: half } })).error).toBeUndefined();
});

test("a plain-HTTP loopback prefix without allowLocalBinding: with the allowlist naming 127.0.0.1, the request through the proxy gets the real value on the prefix only (as the reference)", async () => {
  const plain = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (req) => new Response(`${new URL(req.url).pathname} auth=${req.headers.get("authorization")}\n`) });
  try {
    const prefix = `http://127.0.0.1:${plain.port}/api`;
    const get = (path: string) => `curl -sS --noproxy '' -x "$HTTP_PROXY" http://127.0.0.1:${plain.port}${path} -H "Authorization: Bearer $VENDOR_TOKEN"`;
    const script = ['echo "child=$VENDOR_TOKEN"', get("/api/x"), get("/other")].join("; ");
    const { error, out } = await start(script, { vendor: { env: ["VENDOR_TOKEN"], patterns: [PATTERN], url_prefixes: [prefix], auth: ["bearer"] } }, { allowLocalBinding: false, domains: { "127.0.0.1": "allow" } });
    expect(error).toBeUndefined();
    const dummy = /child=(\S+)/.exec(out)![1]!;
    expect(out).toBe(`child=${dummy}\n/api/x auth=Bearer ${REAL}\n/other auth=Bearer ${dummy}\n`);
    // Two Content-Lengths (the origin could read a following request as this one's body, at /other, with the real
    // value in it). Nothing follows the head: bytes the proxy leaves unread when it closes would reset the connection.
    const url = `http://127.0.0.1:${plain.port}`;
    const smuggle = `exec 3<>/dev/tcp/127.0.0.1/\${HTTP_PROXY##*:}; printf "GET ${url}/api/x HTTP/1.1\\r\\nHost: 127.0.0.1:${plain.port}\\r\\nContent-Length: 0\\r\\nContent-Length: 0\\r\\nAuthorization: Bearer $VENDOR_TOKEN\\r\\n\\r\\n" >&3; head -c 120 <&3 | tr -d "\\r"`;
    const refused = await start(smuggle, { vendor: { env: ["VENDOR_TOKEN"], patterns: [PATTERN], url_prefixes: [prefix], auth: ["bearer"] } }, { allowLocalBinding: false, domains: { "127.0.0.1": "allow" } });
    expect(refused.error).toBeUndefined();
    expect(refused.out.replace(/date: .*/, "date: D")).toBe("HTTP/1.1 400 Bad Request\nconnection: close\ncontent-length: 0\ndate: D\n\n");
  } finally {
    plain.stop(true);
  }
});
