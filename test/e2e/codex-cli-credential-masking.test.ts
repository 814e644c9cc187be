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
 * with `ignore_default_excludes = true` (else the CLI's default excludes drop `*TOKEN*`).
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

/** The network-proxy e2e's profile for ghe.test, and an environment policy that lets `*TOKEN*` through. */
const PROFILE = `
[shell_environment_policy]
inherit = "all"
ignore_default_excludes = true
${cli.networkProfile({ "ghe.test": "allow" })}`;

const asRoot = process.getuid?.() === 0 ? test : test.skip;

cli.forEachCodexCli("credential masking e2e", (codex) => {
  describe(`codex ${codex.version} CLI → execbox credential masking`, () => {
    asRoot(
      "the sandboxed curl sends the dummy it holds; the provider host behind execbox's proxy receives the real token",
      async () => {
        using tmp = tempDir("execbox-codex-mask-");
        const [work, codexHome, home, execboxHome] = ["work", "codex-home", "home", "execbox-home"].map((d) => join(tmp.path, d));
        for (const d of [work, codexHome, home, join(execboxHome!, ".codex")]) mkdirSync(d!, { recursive: true });
        const ca = await MitmAuthority.create(join(tmp.path, "origin-ca"));
        const ghe = await startTlsOrigin(ca);
        try {
          const cmd = `curl -sS -m 5 https://ghe.test:${ghe.port}/api -H "Authorization: Bearer $GH_ENTERPRISE_TOKEN"; echo "rc=$? child=\${GH_ENTERPRISE_TOKEN:0:10} len=\${#GH_ENTERPRISE_TOKEN}"`;
          await using api = cli.startFakeResponsesApi([[cli.execCommandCall("call_mask_1", { cmd, workdir: work, yield_time_ms: 10_000 })], [cli.assistantMessage("masking checked")]]);
          cli.writeCodexHome(codexHome!, {
            baseUrl: api.baseUrl,
            model: cli.pickBundledModel(codex.path, codexHome!),
            approvalPolicy: "never",
            extra: { topLevel: 'default_permissions = "net"', features: { network_proxy: true, credential_masking: true }, tables: PROFILE },
          });
          writeFileSync(join(tmp.path, "hosts"), "127.0.0.1 localhost ghe.test\n");
          const hostsNs = ["unshare", "-m", "sh", "-c", `mount --bind ${tmp.path}/hosts /etc/hosts && exec "$@"`, "sh"];
          const env = { ...process.env, HOME: execboxHome!, CODEX_HOME: join(execboxHome!, ".codex"), GH_ENTERPRISE_TOKEN: REAL, GH_HOST: "ghe.test", NODE_EXTRA_CA_CERTS: ca.files.caPath } as Record<string, string>;
          await using server = await startServer([], { env, command: [...hostsNs, ...execboxCommand()] });
          await using tap = startWsTap(server.url);
          const run = await cli.runCodexExec({ codex: codex.path, codexHome: codexHome!, home: home!, cwd: work!, execServerUrl: tap.url, prompt: "Run the scripted tool call.", timeoutMs: CODEX_DEADLINE_MS });
          const output = cli.toolOutput(api.requests.at(-1), "call_mask_1");
          const diag = `codex exit=${run.exitCode} timedOut=${run.timedOut}\n--- tool output\n${output}\n--- stderr\n${run.stderr}`;

          expect(run.exitCode, diag).toBe(0);
          // Not the CLI's refusal for an executor without the capability. (0.171.0 still warns that a login
          // command's "shell startup" runs unmasked, and the reference then leaves it unmasked; execbox masks it.)
          expect(run.stderr, diag).not.toContain("because its exec-server does not support it");
          const start = tap.frames.find((f) => f.from === "client" && f.message.method === "process/start")?.message.params as Record<string, any>;
          expect([start?.networkProxy?.proxy?.credentialMasking, start?.enforceManagedNetwork], diag).toEqual([true, true]);
          expect(output, diag).toContain(`ghe.test:${ghe.port} auth=Bearer ${REAL}\nrc=0 child=ghp_masked len=${REAL.length}\n`);
          expect(ghe.seen, diag).toEqual([`Bearer ${REAL}`]);
        } finally {
          ghe.close();
        }
      },
      TEST_TIMEOUT_MS,
    );
  });
});
