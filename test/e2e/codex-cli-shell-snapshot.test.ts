/**
 * End-to-end: the real Codex CLI (the newest installed, 0.171.0) with
 * `features.shell_snapshot_v2 = true` against execbox. Its exec_command runs
 * `/bin/bash -lc` with a `shellSnapshot` scope: the login profile of
 * execbox's HOME runs once for two commands, and the second still sees the
 * profile's function and variable.
 */
import { expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { assistantMessage, execCommandCall, locateCodex, pickBundledModel, runCodexExec, startFakeResponsesApi, toolOutput, writeCodexHome } from "../helpers/codex-cli.ts";
import { NEWEST_REFERENCE } from "../helpers/reference-bin.ts";
import { startServer, tempDir } from "../helpers/server.ts";

const codex = locateCodex(NEWEST_REFERENCE);
const PROFILE = 'echo run >> "$HOME/profile-runs"\ngreet() { echo "hello $1"; }\nexport PROFILE_VAR=from-profile\n';

test.skipIf(!codex.ok)(`codex ${NEWEST_REFERENCE} with shell_snapshot_v2: two commands, one profile run, state restored`, async () => {
  if (!codex.ok) return;
  using tmp = tempDir("execbox-codex-snapshot-");
  const [work, codexHome, home, execboxHome] = ["work", "codex-home", "home", "execbox-home"].map((d) => join(tmp.path, d));
  for (const d of [work, codexHome, home, execboxHome]) mkdirSync(d!, { recursive: true });
  writeFileSync(join(execboxHome!, ".bash_profile"), PROFILE);
  const cmd = (n: string) => `greet ${n}; echo "$PROFILE_VAR runs=$(wc -l < "$HOME/profile-runs")"`;
  await using api = startFakeResponsesApi([
    [execCommandCall("call_1", { cmd: cmd("one"), workdir: work, yield_time_ms: 10_000 })],
    [execCommandCall("call_2", { cmd: cmd("two"), workdir: work, yield_time_ms: 10_000 })],
    [assistantMessage("done")],
  ]);
  writeCodexHome(codexHome!, { baseUrl: api.baseUrl, model: pickBundledModel(codex.path, codexHome!), extra: { features: { shell_snapshot_v2: true } } });
  await using server = await startServer([], { env: { ...process.env, HOME: execboxHome!, CODEX_HOME: join(execboxHome!, ".codex") } });
  const run = await runCodexExec({ codex: codex.path, codexHome: codexHome!, home: home!, cwd: work!, execServerUrl: server.url, prompt: "Run the scripted tool calls.", timeoutMs: 30_000 });
  const diag = `codex exit=${run.exitCode} timedOut=${run.timedOut}\n--- stderr\n${run.stderr}\n--- execbox\n${server.stderr()}`;
  expect(run.exitCode, diag).toBe(0);
  expect(api.requests.length, diag).toBe(3);
  expect(toolOutput(api.requests[1], "call_1"), diag).toEndWith("\nOutput:\nhello one\nfrom-profile runs=1\n");
  expect(toolOutput(api.requests[2], "call_2"), diag).toEndWith("\nOutput:\nhello two\nfrom-profile runs=1\n");
}, 60_000);
