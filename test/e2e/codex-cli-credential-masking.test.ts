/**
 * End-to-end: the real Codex CLI (0.169.0 and 0.171.0) with `features.credential_masking` on,
 * a managed network proxy and a sandboxed profile, runs a `curl` on execbox against a fake GitHub
 * Enterprise host (`GH_HOST=ghe.test`, an HTTPS origin on 127.0.0.1 with its own test CA): the
 * command holds only the dummy, the origin gets the real token. The executor's environment holds
 * the token (as a devbox's would) and runs in a private mount namespace whose /etc/hosts names
 * ghe.test (the host's file is untouched); it trusts the origin's CA through NODE_EXTRA_CA_CERTS,
 * the child trusts the executor's CA through the bundle variables. Needs root (the namespace) and
 * bwrap.
 *
 * Against the reference executor (0.171.0, probed) the same login command (`bash -lc`) gets the
 * real token: the CLI warns "Credential masking is unavailable for this shell startup … will run
 * with unmasked credentials" and the reference leaves login commands unmasked. execbox masks every
 * command of a masked launch (README, differences).
 *
 * Config beyond the network-proxy e2e's (codex-cli-network-proxy.test.ts): `credential_masking =
 * true` under [features], `"ghe.test" = "allow"`, and `[shell_environment_policy] inherit = "all"`
 * with `ignore_default_excludes = true` (else the CLI's default excludes drop `*TOKEN*`). A custom
 * provider is `[features.network_proxy.credentials.<id>]` (then `[features.network_proxy]
 * enabled = true` instead of `network_proxy = true`); the CLI sends it as
 * `proxy.credentialProviders` once the executor reports credentialMaskingCustomProviders.
 */
import { describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { MitmAuthority } from "../../src/network/mitm/authority.ts";
import * as cli from "../helpers/codex-cli.ts";
import { execboxCommand, startServer, tempDir } from "../helpers/server.ts";
import { startTlsOrigin } from "../helpers/tls-origin.ts";
import { startWsTap } from "../helpers/ws-tap.ts";

const CODEX_DEADLINE_MS = 20_000;
const TEST_TIMEOUT_MS = 45_000;
const REAL = "ghp_E2Erealtoken0123456789abcdefghijklmn";
const VENDOR_REAL = "sk_live_E2EvendorKey42";

/** The network-proxy e2e's profile for `host`, and an environment policy that lets `*TOKEN*` through. */
const profile = (host: string) => `
[shell_environment_policy]
inherit = "all"
ignore_default_excludes = true
${cli.networkProfile({ [host]: "allow" })}`;

/** A custom provider for the vendor origin's /api prefix, its key in `x-api-key` after `K `. */
const VENDOR_PROVIDER = (port: number) => `
[features.network_proxy]
enabled = true

[features.network_proxy.credentials.vendor]
env = ["VENDOR_TOKEN"]
patterns = ["^sk_live_[A-Za-z0-9]+$"]
url_prefixes = ["https://vendor.test:${port}/api"]
auth = ["header"]
header = "x-api-key"
prefix = "K "
`;

type Masked = { host: string; env: Record<string, string>; cmd: (port: number) => string; features: Record<string, boolean>; tables: (port: number) => string };

/**
 * Runs one scripted `curl` through the CLI on execbox (in its hosts namespace) against an HTTPS
 * origin named `host`; gives the tool output, what the origin saw, the process/start the CLI sent.
 */
async function runMasked(codex: { path: string }, m: Masked) {
  using tmp = tempDir("execbox-codex-mask-");
  const [work, codexHome, home, execboxHome] = ["work", "codex-home", "home", "execbox-home"].map((d) => join(tmp.path, d));
  for (const d of [work, codexHome, home, join(execboxHome!, ".codex")]) mkdirSync(d!, { recursive: true });
  const ca = await MitmAuthority.create(join(tmp.path, "origin-ca"));
  const origin = await startTlsOrigin(ca, { headers: ["x-api-key"] });
  try {
    await using api = cli.startFakeResponsesApi([[cli.execCommandCall("call_mask_1", { cmd: m.cmd(origin.port), workdir: work, yield_time_ms: 10_000 })], [cli.assistantMessage("masking checked")]]);
    cli.writeCodexHome(codexHome!, {
      baseUrl: api.baseUrl,
      model: cli.pickBundledModel(codex.path, codexHome!),
      approvalPolicy: "never",
      extra: { topLevel: 'default_permissions = "net"', features: { credential_masking: true, ...m.features }, tables: `${profile(m.host)}${m.tables(origin.port)}` },
    });
    writeFileSync(join(tmp.path, "hosts"), `127.0.0.1 localhost ${m.host}\n`);
    const hostsNs = ["unshare", "-m", "sh", "-c", `mount --bind ${tmp.path}/hosts /etc/hosts && exec "$@"`, "sh"];
    const env = { ...process.env, HOME: execboxHome!, CODEX_HOME: join(execboxHome!, ".codex"), NODE_EXTRA_CA_CERTS: ca.files.caPath, ...m.env } as Record<string, string>;
    await using server = await startServer([], { env, command: [...hostsNs, ...execboxCommand()] });
    await using tap = startWsTap(server.url);
    const run = await cli.runCodexExec({ codex: codex.path, codexHome: codexHome!, home: home!, cwd: work!, execServerUrl: tap.url, prompt: "Run the scripted tool call.", timeoutMs: CODEX_DEADLINE_MS });
    const output = cli.toolOutput(api.requests.at(-1), "call_mask_1");
    const diag = `codex exit=${run.exitCode} timedOut=${run.timedOut}\n--- tool output\n${output}\n--- stderr\n${run.stderr}`;
    const start = tap.frames.find((f) => f.from === "client" && f.message.method === "process/start")?.message.params as Record<string, any>;
    return { run, output, diag, start, port: origin.port, seen: origin.seen };
  } finally {
    origin.close();
  }
}

const asRoot = process.getuid?.() === 0 ? test : test.skip;

cli.forEachCodexCli("credential masking e2e", (codex) => {
  describe(`codex ${codex.version} CLI → execbox credential masking`, () => {
    asRoot(
      "the sandboxed curl sends the dummy it holds; the provider host behind execbox's proxy receives the real token",
      async () => {
        const r = await runMasked(codex, {
          host: "ghe.test",
          env: { GH_ENTERPRISE_TOKEN: REAL, GH_HOST: "ghe.test" },
          cmd: (port) => `curl -sS -m 5 https://ghe.test:${port}/api -H "Authorization: Bearer $GH_ENTERPRISE_TOKEN"; echo "rc=$? child=\${GH_ENTERPRISE_TOKEN:0:10} len=\${#GH_ENTERPRISE_TOKEN}"`,
          features: { network_proxy: true },
          tables: () => "",
        });
        expect(r.run.exitCode, r.diag).toBe(0);
        // Not the CLI's refusal for an executor without the capability. (0.171.0 still warns that a login
        // command's "shell startup" runs unmasked, and the reference then leaves it unmasked; execbox masks it.)
        expect(r.run.stderr, r.diag).not.toContain("because its exec-server does not support it");
        expect([r.start?.networkProxy?.proxy?.credentialMasking, r.start?.enforceManagedNetwork], r.diag).toEqual([true, true]);
        expect(r.output, r.diag).toContain(`ghe.test:${r.port} auth=Bearer ${REAL} x-api-key=-\nrc=0 child=ghp_masked len=${REAL.length}\n`);
        expect(r.seen, r.diag).toEqual([`Bearer ${REAL}`]);
      },
      TEST_TIMEOUT_MS,
    );

    asRoot(
      "a custom provider from [features.network_proxy.credentials]: the command holds a dummy, the origin gets the real key in x-api-key",
      async () => {
        const r = await runMasked(codex, {
          host: "vendor.test",
          env: { VENDOR_TOKEN: VENDOR_REAL },
          cmd: (port) => `curl -sS -m 5 https://vendor.test:${port}/api/v1 -H "x-api-key: K $VENDOR_TOKEN"; echo "rc=$? child=$VENDOR_TOKEN"`,
          features: {},
          tables: VENDOR_PROVIDER,
        });
        expect(r.run.exitCode, r.diag).toBe(0);
        expect(r.start?.networkProxy?.proxy?.credentialProviders, r.diag).toEqual({
          vendor: expect.objectContaining({ env: ["VENDOR_TOKEN"], patterns: ["^sk_live_[A-Za-z0-9]+$"], url_prefixes: [`https://vendor.test:${r.port}/api`], auth: ["header"], header: "x-api-key", prefix: "K " }),
        });
        const dummy = /child=(\S*)/.exec(r.output ?? "")?.[1] ?? "";
        expect(dummy, r.diag).toMatch(/^sk_live_[A-Za-z0-9]+$/);
        expect(dummy, r.diag).not.toBe(VENDOR_REAL);
        expect(r.output, r.diag).toContain(`vendor.test:${r.port} auth=- x-api-key=K ${VENDOR_REAL}\nrc=0 child=${dummy}\n`);
      },
      TEST_TIMEOUT_MS,
    );
  });
});
