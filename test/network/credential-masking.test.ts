/**
 * Credential masking against a real executor (EXECBOX_BIN when set): the
 * child sees shape-preserving dummies and the CA bundle; a CONNECT to the
 * provider's host (GH_HOST's, here a loopback HTTPS origin named ghe.test)
 * is terminated with the executor CA's leaf and the real token arrives; a
 * host no provider covers is tunnelled untouched (the child verifies the
 * origin's own certificate) and gets the dummy. The executor runs in a
 * private mount namespace whose /etc/hosts names the two test hosts (the
 * host's file is untouched); it trusts the origins' CA through
 * NODE_EXTRA_CA_CERTS.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { MitmAuthority } from "../../src/network/mitm/authority.ts";
import { networkProxyLaunch } from "../helpers/network-proxy.ts";
import { RawClient } from "../helpers/rpc-client.ts";
import { type TlsOrigin, startMaskedExecutor, startTlsOrigin } from "../helpers/tls-origin.ts";
import { type RunningServer, startServer, tempDir } from "../helpers/server.ts";

setDefaultTimeout(30_000);

const dir = tempDir();
const REAL = "ghp_REALenterpriseTOKEN0123456789abcdefXYZ";
const CLOUD = "ghp_realCLOUDtoken_0123456789abcdefghijklmnop";
let originCa: MitmAuthority;
const origins: TlsOrigin[] = [];
let server: RunningServer;
let c: RawClient;

/** A TLS origin (tls-origin.ts), closed after the tests. */
async function origin(): Promise<number> {
  const o = await startTlsOrigin(originCa);
  origins.push(o);
  return o.port;
}

let providerPort = 0;
let otherPort = 0;
beforeAll(async () => {
  originCa = await MitmAuthority.create(join(dir.path, "origin-ca"));
  providerPort = await origin();
  otherPort = await origin();
  ({ server, client: c } = await startMaskedExecutor(dir.path, ["ghe.test", "other.test"], { GH_ENTERPRISE_TOKEN: REAL, GH_HOST: "ghe.test", GITHUB_TOKEN: CLOUD, NODE_EXTRA_CA_CERTS: originCa.files.caPath }));
});
afterAll(async () => {
  c?.close();
  await server?.stop("SIGKILL");
  for (const s of origins) s.close();
  dir[Symbol.dispose]();
});

const INHERIT = { inherit: "all", ignoreDefaultExcludes: true, exclude: [], set: {}, includeOnly: [] };
const PROXY = { credentialMasking: true, allowLocalBinding: true, domains: { "ghe.test": "allow", "other.test": "allow" } };
let n = 0;

async function run(script: string, extra: Record<string, unknown> = {}) {
  const processId = `cm${++n}`;
  const start = await c.call("process/start", { processId, argv: ["bash", "-c", script], cwd: dir.uri, env: { ORIGIN_CA: originCa.files.caPath }, envPolicy: INHERIT, tty: false, networkProxy: networkProxyLaunch(PROXY), ...extra });
  expect(start.error).toBeUndefined();
  await c.processDone(processId, 20_000);
  return c.output(processId, "stdout").toString();
}

test("the child sees dummies of the same shape, the broker's variables and the CA bundle; never the real values", async () => {
  const out = await run('echo "$GH_ENTERPRISE_TOKEN"; echo "$GITHUB_TOKEN"; echo "$CODEX_NETWORK_PROXY_CREDENTIAL_BROKER_ACTIVE"; echo "$CODEX_NETWORK_PROXY_BROKERED_CREDENTIALS"; echo "$CURL_CA_BUNDLE"; echo "$SSL_CERT_FILE"; env | grep -c -e REALenterprise -e realCLOUD');
  const [ghe, cloud, active, marker, curlCa, sslCa, leaks] = out.trimEnd().split("\n");
  expect(ghe).toMatch(new RegExp(`^ghp_masked[A-Za-z0-9]{${REAL.length - 10}}$`));
  expect(ghe!.length).toBe(REAL.length);
  expect(cloud).toMatch(new RegExp(`^ghp_masked[A-Za-z0-9]{${CLOUD.length - 10}}$`));
  expect(active).toBe("1");
  expect(JSON.parse(marker!)).toEqual([["@alias:GH_ENTERPRISE_TOKEN", ghe], ["@alias:GITHUB_TOKEN", cloud], ["GH_ENTERPRISE_TOKEN", ghe], ["GITHUB_TOKEN", cloud]]);
  expect(curlCa).toMatch(new RegExp(`^${join(dir.path, "codex", "proxy")}/ca-bundle-[0-9a-f]{64}\\.pem$`));
  expect(sslCa).toBe(curlCa);
  expect(leaks).toBe("0");
  // The same real value gets the same dummy in the next process of this executor.
  expect((await run('echo "$GH_ENTERPRISE_TOKEN"')).trim()).toBe(ghe!);
});

test("the provider's host is terminated and gets the real token; another host is tunnelled untouched and keeps the dummy", async () => {
  const script = [
    `curl -sS https://ghe.test:${providerPort}/x -H "Authorization: Bearer $GH_ENTERPRISE_TOKEN"`,
    // Verified against the origin's own CA only: a terminated connection (the executor's leaf) would fail here.
    `curl -sS --cacert "$ORIGIN_CA" https://other.test:${otherPort}/y -H "Authorization: Bearer $GH_ENTERPRISE_TOKEN"`,
    'echo "child=$GH_ENTERPRISE_TOKEN"',
  ].join("; ");
  const out = await run(script);
  const dummy = /child=(\S+)/.exec(out)![1]!;
  expect(out).toBe(`ghe.test:${providerPort} auth=Bearer ${REAL}\nother.test:${otherPort} auth=Bearer ${dummy}\nchild=${dummy}\n`);
});

test("a dummy of a credential for another host is not restored: GITHUB_TOKEN's dummy sent to ghe.test arrives as sent", async () => {
  const out = await run(`curl -sS https://ghe.test:${providerPort}/z -H "Authorization: token $GITHUB_TOKEN"; echo "child=$GITHUB_TOKEN"`);
  const dummy = /child=(\S+)/.exec(out)![1]!;
  expect(out).toBe(`ghe.test:${providerPort} auth=token ${dummy}\nchild=${dummy}\n`);
});

test("sandboxed (enforceManagedNetwork): the real token still arrives through the bridge, the child still holds the dummy", async () => {
  const sandbox = {
    permissions: { type: "managed", file_system: { type: "restricted", entries: [{ path: { type: "special", value: { kind: "root" } }, access: "read" }, { path: { type: "special", value: { kind: "project_roots" } }, access: "write" }] }, network: "enabled" },
    cwd: dir.uri,
    workspaceRoots: [dir.uri],
    windowsSandboxLevel: "disabled",
  };
  const out = await run(`curl -sS https://ghe.test:${providerPort}/s -H "Authorization: Bearer $GH_ENTERPRISE_TOKEN"; echo "child=$GH_ENTERPRISE_TOKEN"`, { sandbox, enforceManagedNetwork: true, managedNetwork: null });
  expect(out).toMatch(new RegExp(`^ghe\\.test:${providerPort} auth=Bearer ${REAL}\nchild=ghp_masked[A-Za-z0-9]+\n$`));
  // The executor (its environment holds the real token, its memory the CA's key) is out of the sandbox's sight:
  // no process's environment shows the token. Unsandboxed, the executor's own /proc/PID/environ does.
  const look = "grep -l -s REALenterprise /proc/[0-9]*/environ | wc -l";
  expect((await run(look, { sandbox, enforceManagedNetwork: true, managedNetwork: null })).trim()).toBe("0");
  expect(Number((await run(look)).trim())).toBeGreaterThan(0);
});

test("the CA's private key is in no file: the proxy directory holds the public CA and bundle only", async () => {
  await run("true");
  const proxyDir = join(dir.path, "codex", "proxy");
  const files = readdirSync(proxyDir);
  expect(files.map((f) => f.replace(/[0-9a-f]{64}/, "SHA")).sort()).toEqual(["ca-SHA.pem", "ca-bundle-SHA.pem"]);
  for (const f of files) {
    expect(readFileSync(join(proxyDir, f), "utf8")).not.toContain("PRIVATE KEY");
    expect(statSync(join(proxyDir, f)).mode & 0o777).toBe(0o644);
  }
  expect(statSync(proxyDir).mode & 0o777).toBe(0o700);
});

test("custom providers without credentialMasking are ignored, as the reference ignores them: the command runs unmasked", async () => {
  const processId = "providers-unmasked";
  const provider = { vendor: { env: ["VENDOR_TOKEN"], patterns: ["^vendor_[a-z]{24}$"], url_prefixes: ["https://api.vendor.test/v1/"], auth: ["bearer"] } };
  const start = await c.call("process/start", { processId, argv: ["bash", "-c", 'echo "$VENDOR_TOKEN ${CURL_CA_BUNDLE:-none}"'], cwd: dir.uri, env: { VENDOR_TOKEN: "vendor_abcdefghijklmnopqrstuvwx" }, tty: false, networkProxy: networkProxyLaunch({ credentialProviders: provider }) });
  expect(start.error).toBeUndefined();
  await c.processDone(processId, 20_000);
  expect(c.output(processId, "stdout").toString()).toBe("vendor_abcdefghijklmnopqrstuvwx none\n");
});

test("CODEX_HOME naming no directory: masking is refused with the reference's message, before anything runs", async () => {
  const env = { PATH: "/usr/bin:/bin", HOME: dir.path, CODEX_HOME: join(dir.path, "missing") };
  const other = await startServer([], { env });
  const oc = await RawClient.websocket(other.url);
  try {
    await oc.initialize();
    const r = await oc.call("process/start", { processId: "nohome", argv: ["touch", join(dir.path, "ran")], cwd: dir.uri, env: {}, tty: false, networkProxy: networkProxyLaunch({ credentialMasking: true }) });
    expect(r.error).toEqual({ code: -32602, message: "invalid network proxy config: failed to resolve CODEX_HOME for managed MITM CA" });
    expect(await Bun.file(join(dir.path, "ran")).exists()).toBe(false);
  } finally {
    oc.close();
    await other.stop("SIGKILL");
  }
});

test("the leaf is for the host the CONNECT named, whatever name the handshake asks for (as the reference): a child asking for another cannot verify it", async () => {
  // CONNECT ghe.test (covered, so terminated), but the TLS handshake asks for other.test.
  const out = await run(`curl -sS --connect-to other.test:${providerPort}:ghe.test:${providerPort} https://other.test:${providerPort}/s -H "Authorization: Bearer $GH_ENTERPRISE_TOKEN" 2>&1; echo "exit=$?"`);
  // Before, a leaf was made for any name asked for: this request went through (exit 0).
  expect(out.split("\n")[0]).toBe("curl: (60) SSL: no alternative certificate subject name matches target host name 'other.test'");
  expect(out.trimEnd().split("\n").at(-1)).toBe("exit=60");
});

test("a Host naming another host than the CONNECT's gets the dummy: a shared front routing by Host never sees the real token", async () => {
  const script = [
    `curl -sS https://ghe.test:${providerPort}/h -H "Host: other.test:${providerPort}" -H "Authorization: Bearer $GH_ENTERPRISE_TOKEN"`,
    `curl -sS https://ghe.test:${providerPort}/h -H "Host: ghe.test:1" -H "Authorization: Bearer $GH_ENTERPRISE_TOKEN"`,
    `curl -sS https://ghe.test:${providerPort}/h -H "Host: GHE.test.:${providerPort}" -H "Authorization: Bearer $GH_ENTERPRISE_TOKEN"`,
    'echo "child=$GH_ENTERPRISE_TOKEN"',
  ].join("; ");
  const out = await run(script);
  const dummy = /child=(\S+)/.exec(out)![1]!;
  expect(out).toBe(`other.test:${providerPort} auth=Bearer ${dummy}\nghe.test:1 auth=Bearer ${dummy}\nGHE.test.:${providerPort} auth=Bearer ${REAL}\nchild=${dummy}\n`);
});

test("a terminated request framed ambiguously is refused with 400 and never reaches the origin: no request smuggled past the restore", async () => {
  const seen = origins[0]!.seen.length;
  const smuggled = `GET /x HTTP/1.1\\r\\nHost: ghe.test:${providerPort}\\r\\nAuthorization: Bearer $GH_ENTERPRISE_TOKEN\\r\\n\\r\\n`;
  const heads = [
    "Content-Length: 0\\r\\nContent-Length: 80",
    "Content-Length : 80",
    "Transfer-Encoding: chunked\\r\\nContent-Length: 80",
    "Transfer-Encoding: gzip, chunked",
    "X-A: 1\\r\\n Content-Length: 80",
  ];
  const send = (h: string) =>
    `printf "POST /a HTTP/1.1\\r\\nHost: ghe.test:${providerPort}\\r\\n${h}\\r\\n\\r\\n${smuggled}" | openssl s_client -quiet -ign_eof -proxy "\${HTTPS_PROXY#http://}" -connect ghe.test:${providerPort} -servername ghe.test -CAfile "$CURL_CA_BUNDLE" 2>/dev/null | head -c 24; echo`;
  const out = await run(heads.map(send).join("; "));
  expect(out).toBe("HTTP/1.1 400 Bad Request\n".repeat(heads.length));
  expect(origins[0]!.seen.length).toBe(seen);
});

test("a terminated chunked body whose size line is not hex digits alone ends the connection: no answer is relayed", async () => {
  const send = (size: string) =>
    `printf "POST /c HTTP/1.1\\r\\nHost: ghe.test:${providerPort}\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n${size}\\r\\nhello\\r\\n0\\r\\n\\r\\n" | openssl s_client -quiet -ign_eof -proxy "\${HTTPS_PROXY#http://}" -connect ghe.test:${providerPort} -servername ghe.test -CAfile "$CURL_CA_BUNDLE" 2>/dev/null | head -c 15; echo "|"`;
  expect(await run(["0x5", "5 0", "5", "+5"].map(send).join("; "))).toBe("|\n|\nHTTP/1.1 200 OK|\n|\n");
});
