/**
 * End-to-end: the real Codex CLI (`codex exec`, each version `bun run reference` installs)
 * uses execbox as its remote executor (CODEX_EXEC_SERVER_URL) while a loopback fake Responses API
 * plays the model. Nothing leaves 127.0.0.1; every process and file is the test's own.
 *
 * Run the same file against the reference executor with a wrapper, e.g.
 *   printf '#!/bin/sh\nexec /path/to/codex exec-server "$@"\n' > /tmp/ref.sh; chmod +x /tmp/ref.sh
 *   EXECBOX_BIN=/tmp/ref.sh bun test test/e2e/codex-cli.test.ts
 */
import { describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  applyPatchCall,
  assistantMessage,
  execCommandCall,
  forEachCodexCli,
  pickBundledModel,
  readIfExists,
  runCodexExec,
  startFakeResponsesApi,
  toolOutput,
  writeCodexHome,
  type CodexRun,
  type ResponseItem,
} from "../helpers/codex-cli.ts";
import { startServer, tempDir } from "../helpers/server.ts";

// A passing run takes well under a second; these bound the failure cases (binary probe 10 s,
// execbox start 15 s, codex run 20 s).
const CODEX_DEADLINE_MS = 20_000;
const TEST_TIMEOUT_MS = 50_000;

/** One `codex exec` session against a fresh execbox, in its own temp tree. */
async function session(
  codex: { path: string },
  root: string,
  turns: (work: string) => ResponseItem[][],
  opts: { execboxEnv?: Record<string, string>; prepare?: (work: string) => void } = {},
) {
  const work = join(root, "work");
  const codexHome = join(root, "codex-home");
  const home = join(root, "home");
  const execboxHome = join(root, "execbox-home");
  for (const d of [work, codexHome, home, execboxHome]) mkdirSync(d, { recursive: true });
  opts.prepare?.(work);

  await using api = startFakeResponsesApi(turns(work));
  writeCodexHome(codexHome, { baseUrl: api.baseUrl, model: pickBundledModel(codex.path, codexHome) });
  // execbox gets its own HOME/CODEX_HOME so `bash -lc` and environmentConfig/read see only temp files.
  await using server = await startServer([], {
    env: { ...process.env, HOME: execboxHome, CODEX_HOME: join(execboxHome, ".codex"), ...opts.execboxEnv },
  });
  const run = await runCodexExec({
    codex: codex.path,
    codexHome,
    home,
    cwd: work,
    execServerUrl: server.url,
    prompt: "Run the scripted tool call.",
    timeoutMs: CODEX_DEADLINE_MS,
  });
  return { work, run, requests: [...api.requests], unexpected: [...api.unexpected], execboxStderr: server.stderr() };
}

function describeRun(run: CodexRun, extra = ""): string {
  return `codex exit=${run.exitCode} signal=${run.signal} timedOut=${run.timedOut} in ${run.ms} ms\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}${extra}`;
}

forEachCodexCli("CLI e2e", (codex, version) => {
  describe(`codex ${codex.version} CLI → execbox`, () => {
    test(
      "exec_command runs on execbox; the model gets the exact output and exit code",
      async () => {
        using tmp = tempDir("execbox-codex-e2e-");
        // Only execbox's environment carries this token: finding it in the marker file proves the
        // command ran as an execbox child (envPolicy inherit:"all" resolved against execbox's env).
        // CODEX_TOOL_CALL_ID comes from the CLI's `env` overlay on process/start.
        const token = `tok-${crypto.randomUUID()}`;
        const cmd = `printf 'hello-%s\\n' execbox; printf '%s|%s' "$EXECBOX_E2E_TOKEN" "$CODEX_TOOL_CALL_ID" > marker.txt; echo err >&2; exit 3`;
        const { work, run, requests, unexpected } = await session(
          codex,
          tmp.path,
          (work) => [
            [execCommandCall("call_exec_1", { cmd, workdir: work, yield_time_ms: 10_000 })],
            [assistantMessage("saw exit code 3")],
          ],
          { execboxEnv: { EXECBOX_E2E_TOKEN: token } },
        );
        const diag = describeRun(run, `\n--- model requests: ${requests.length}, other: ${unexpected.join(", ")}`);

        expect(run.timedOut, diag).toBe(false);
        expect(run.exitCode, diag).toBe(0);
        expect(run.stdout, diag).toContain("saw exit code 3");
        expect(unexpected, diag).toEqual([]);
        expect(requests.length, diag).toBe(2);

        // The CLI offered the tool it then executed.
        expect(requests[0]?.tools?.some((t) => t.name === "exec_command"), diag).toBe(true);

        // Turn 2 carries the tool result for our call.
        const output = toolOutput(requests[1], "call_exec_1");
        expect(output, diag).toBeString();
        expect(output).toContain("\nProcess exited with code 3\n");
        // stdout and stderr arrive on separate pipes, so their relative order is not guaranteed.
        const shown = output!.slice(output!.indexOf("\nOutput:\n") + "\nOutput:\n".length);
        expect(["hello-execbox\nerr\n", "err\nhello-execbox\n"]).toContain(shown);

        // …and it really ran on execbox, in the requested workdir, with policy env + overlay.
        expect(readIfExists(join(work, "marker.txt"))).toBe(`${token}|call_exec_1`);
      },
      TEST_TIMEOUT_MS,
    );

    // apply_patch goes through the executor's filesystem API. Against the reference the CLI sends,
    // per file: Update → fs/readFile (verify), fs/getMetadata + fs/readFile + fs/writeFile;
    // Add → fs/getMetadata (-32004), fs/readFile (-32004), fs/writeFile (-32004 when the parent is
    // missing), fs/createDirectory {recursive:true}, fs/writeFile; Delete → fs/readFile (verify),
    // fs/getMetadata ×2, fs/remove {recursive:false, force:false}.
    test(
      "apply_patch edits, adds and deletes files through execbox's fs/* methods",
      async () => {
        using tmp = tempDir("execbox-codex-e2e-");
        const patch = [
          "*** Begin Patch",
          "*** Update File: notes.txt",
          "@@",
          " alpha",
          "-beta",
          "+BETA from execbox",
          " gamma",
          "*** Add File: sub/dir/greeting.txt",
          "+hello from apply_patch",
          "*** Delete File: old.txt",
          "*** End Patch",
          "",
        ].join("\n");
        const { work, run, requests, unexpected } = await session(
          codex,
          tmp.path,
          () => [[applyPatchCall("call_patch_1", patch)], [assistantMessage("patched")]],
          {
            prepare: (work) => {
              writeFileSync(join(work, "notes.txt"), "alpha\nbeta\ngamma\n");
              writeFileSync(join(work, "old.txt"), "bye\n");
            },
          },
        );
        const diag = describeRun(run, `\n--- model requests: ${requests.length}, other: ${unexpected.join(", ")}`);

        expect(run.timedOut, diag).toBe(false);
        expect(run.exitCode, diag).toBe(0);
        expect(run.stdout, diag).toContain("patched");
        expect(requests.length, diag).toBe(2);
        expect(requests[0]?.tools?.some((t) => t.name === "apply_patch"), diag).toBe(true);

        const output = toolOutput(requests[1], "call_patch_1");
        expect(output, diag).toBeString();
        expect(output).toStartWith("Exit code: 0\n");
        expect(output).toEndWith("\nOutput:\nSuccess. Updated the following files:\nA sub/dir/greeting.txt\nM notes.txt\nD old.txt\n");

        expect(readIfExists(join(work, "notes.txt"))).toBe("alpha\nBETA from execbox\ngamma\n");
        expect(readIfExists(join(work, "sub/dir/greeting.txt"))).toBe("hello from apply_patch\n");
        expect(readIfExists(join(work, "old.txt"))).toBeNull();
        // No executor request was refused as unimplemented along the way (repo/AGENTS.md discovery
        // uses fs/getMetadata too).
        expect(run.stderr, diag).not.toContain("does not implement");
      },
      TEST_TIMEOUT_MS,
    );
  });
});
