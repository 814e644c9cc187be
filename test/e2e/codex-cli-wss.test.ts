/**
 * End-to-end across "machines": the real Codex CLI reaches execbox over
 * `wss://` with a capability token, named in `$CODEX_HOME/environments.toml`,
 * trusting a throwaway private CA through SSL_CERT_FILE. The README's
 * "Codex CLI across machines" recipe is what this runs. Nothing leaves 127.0.0.1.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  assistantMessage,
  execCommandCall,
  forEachCodexCli,
  pickBundledModel,
  runCodexExec,
  startFakeResponsesApi,
  toolOutput,
  writeCodexHome,
  writeEnvironmentsToml,
} from "../helpers/codex-cli.ts";
import { startServer, tempDir } from "../helpers/server.ts";
import { type TestCa, makeTestCa } from "../http/test-ca.ts";

const CODEX_DEADLINE_MS = 30_000;
const TEST_TIMEOUT_MS = 60_000;
const TOKEN = "codex-over-wss-capability-token-0123";
const UNUSABLE = "No usable execution environment is available. Wait for an environment to become available before using this tool.";

let ca: TestCa;
beforeAll(() => {
  ca = makeTestCa(["IP:127.0.0.1"]);
});
afterAll(() => ca?.dispose());

/** One `codex exec` turn that runs `echo over-wss; exit 4` on a wss + token execbox; the CLI gets `cliEnv`. */
async function session(codex: string, root: string, cliEnv: Record<string, string>, bearerToken = TOKEN) {
  const [work, codexHome, home, execboxHome] = ["work", "codex-home", "home", "execbox-home"].map((d) => join(root, d));
  for (const d of [work!, codexHome!, home!, execboxHome!]) mkdirSync(d, { recursive: true });
  const tokenFile = join(root, "token");
  writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
  await using server = await startServer(
    ["--tls-cert", join(ca.dir, "srv.pem"), "--tls-key", join(ca.dir, "srv.key"), "--ws-auth", "capability-token", "--ws-token-file", tokenFile],
    { listen: "wss://127.0.0.1:0", env: { ...process.env, HOME: execboxHome!, CODEX_HOME: join(execboxHome!, ".codex") } },
  );
  await using api = startFakeResponsesApi([
    [execCommandCall("call_wss", { cmd: "echo over-wss; exit 4", workdir: work!, yield_time_ms: 10_000 })],
    [assistantMessage("done over wss")],
  ]);
  writeCodexHome(codexHome!, { baseUrl: api.baseUrl, model: pickBundledModel(codex, codexHome!) });
  writeEnvironmentsToml(codexHome!, { id: "box", url: server.url, bearerToken });
  const run = await runCodexExec({ codex, codexHome: codexHome!, home: home!, cwd: work!, prompt: "Run it.", timeoutMs: CODEX_DEADLINE_MS, env: cliEnv });
  const diag = `codex exit=${run.exitCode} timedOut=${run.timedOut}\n--- stderr\n${run.stderr}\n--- execbox stderr\n${server.stderr()}`;
  return { run, output: toolOutput(api.requests[1], "call_wss"), diag, execboxStderr: server.stderr() };
}

forEachCodexCli("CLI over wss", (codex, version) => {
  describe(`codex ${version} CLI → execbox over wss://`, () => {
    test(
      "environments.toml url wss:// + auth_bearer_token, SSL_CERT_FILE = the private CA: the command runs on execbox",
      async () => {
        using tmp = tempDir("execbox-codex-wss-");
        const { run, output, diag, execboxStderr } = await session(codex.path, tmp.path, { SSL_CERT_FILE: ca.caFile });
        expect(run.timedOut, diag).toBe(false);
        expect(run.exitCode, diag).toBe(0);
        expect(output, diag).toContain("\nProcess exited with code 4\n");
        expect(output!.slice(output!.indexOf("\nOutput:\n"))).toBe("\nOutput:\nover-wss\n");
        // Nothing went wrong on execbox's side: only its info lines.
        expect(execboxStderr.split("\n").filter((l) => /\b(WARN|ERROR)\b/.test(l))).toEqual([]);
      },
      TEST_TIMEOUT_MS,
    );

    test(
      "without SSL_CERT_FILE (CODEX_CA_CERTIFICATE does not reach the exec-server client) or with a wrong token the CLI has no usable environment",
      async () => {
        using tmp = tempDir("execbox-codex-wss-");
        for (const cliEnv of [{}, { CODEX_CA_CERTIFICATE: ca.caFile }] as Record<string, string>[]) {
          const { run, output, diag } = await session(codex.path, tmp.path, cliEnv);
          expect(run.exitCode, diag).toBe(0);
          expect(output, diag).toBe(UNUSABLE);
        }
        // …and the token is what lets it in: a wrong one gets the 401.
        const wrong = await session(codex.path, tmp.path, { SSL_CERT_FILE: ca.caFile }, "not-the-token-0123456789");
        expect(wrong.output, wrong.diag).toBe(UNUSABLE);
        expect(wrong.execboxStderr, wrong.diag).toContain(' WARN execbox: refused an upgrade status=401 reason="invalid websocket bearer token" peer=127.0.0.1:');
      },
      TEST_TIMEOUT_MS,
    );
  });
});
