/**
 * End-to-end: the real Codex CLI (0.169.0 and 0.171.0) with a permissions profile that makes `/`
 * writable but denies one directory sends its command sandboxed with a root-write profile, which
 * execbox enforces as the reference's wrapper does (linuxRootWritePreservesDevices): writes
 * anywhere succeed, /dev is complete, the denied directory is unreadable. Every file is the test's.
 *
 * The profile (top-level `default_permissions`, as in test/e2e/codex-cli-network-proxy.test.ts):
 *
 *   default_permissions = "rw"
 *   [permissions.rw.filesystem]
 *   ":root" = "write"
 *   "<denied dir>" = "none"
 *
 * The CLI sends it as `sandbox.permissions.file_system.entries` `[{path: file://<denied>,
 * access: "deny"}, {path: special root, access: "write"}]`, network restricted. On the old
 * execbox the root was read-only, so the write outside the workspace failed.
 *
 * Needs bwrap on PATH (CI installs bubblewrap).
 */
import { describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as cli from "../helpers/codex-cli.ts";
import { startServer, tempDir } from "../helpers/server.ts";
import { startWsTap } from "../helpers/ws-tap.ts";

const CODEX_DEADLINE_MS = 20_000;
const TEST_TIMEOUT_MS = 45_000;

async function session(codex: { path: string }) {
  using tmp = tempDir("execbox-codex-rootwrite-");
  const [work, codexHome, home, execboxHome, outside, denied] = ["work", "codex-home", "home", "execbox-home", "outside", "denied"].map((d) => join(tmp.path, d));
  for (const d of [work, codexHome, home, execboxHome, outside, denied]) mkdirSync(d!, { recursive: true });
  writeFileSync(join(denied!, "secret"), "top secret\n");
  const cmd = [
    `echo written > ${outside}/made-by-command && echo write-ok`,
    "head -c 4 /dev/urandom | wc -c",
    `cat ${denied}/secret 2>&1 | sed 's/^cat: //'`,
  ].join("; ");
  const profile = `\n[permissions.rw.filesystem]\n":root" = "write"\n"${denied}" = "none"\n`;
  await using api = cli.startFakeResponsesApi([[cli.execCommandCall("call_rw_1", { cmd, workdir: work, yield_time_ms: 10_000 })], [cli.assistantMessage("root write checked")]]);
  cli.writeCodexHome(codexHome!, {
    baseUrl: api.baseUrl,
    model: cli.pickBundledModel(codex.path, codexHome!),
    extra: { topLevel: 'default_permissions = "rw"', tables: profile },
  });
  await using server = await startServer([], { env: { ...process.env, HOME: execboxHome!, CODEX_HOME: join(execboxHome!, ".codex") } });
  await using tap = startWsTap(server.url);
  const run = await cli.runCodexExec({ codex: codex.path, codexHome: codexHome!, home: home!, cwd: work!, execServerUrl: tap.url, prompt: "Run the scripted tool call.", timeoutMs: CODEX_DEADLINE_MS });
  const output = cli.toolOutput(api.requests[1], "call_rw_1");
  const start = tap.frames.find((f) => f.from === "client" && f.message.method === "process/start")?.message;
  const answer = tap.frames.find((f) => f.from === "executor" && start !== undefined && f.message.id === start.id)?.message as { result?: { sandboxType?: string } } | undefined;
  let made: string | null = null;
  try {
    made = readFileSync(join(outside!, "made-by-command"), "utf8");
  } catch {}
  return { run, output, start: start?.params as Record<string, any> | undefined, answer, made, denied: denied! };
}

cli.forEachCodexCli("root-write e2e", (codex, version) => {
  describe(`codex ${codex.version} CLI → execbox, root-write profile`, () => {
    test(
      "writes outside the workspace succeed, /dev is whole, the denied directory stays unreadable",
      async () => {
        const r = await session(codex);
        const diag = `codex exit=${r.run.exitCode} timedOut=${r.run.timedOut}\n--- tool output\n${r.output}\n--- stderr\n${r.run.stderr}\n--- start\n${JSON.stringify(r.start)}`;
        expect(r.run.timedOut, diag).toBe(false);
        expect(r.answer?.result?.sandboxType, diag).toBe("linuxSeccomp");
        const entries = r.start?.sandbox?.permissions?.file_system?.entries as { path: { type: string; value?: { kind: string }; path?: string }; access: string }[];
        expect(entries.some((e) => e.path.value?.kind === "root" && e.access === "write"), diag).toBe(true);
        expect(entries.some((e) => e.path.path === `file://${r.denied}` && e.access === "deny"), diag).toBe(true);
        const shown = r.output?.slice(r.output.indexOf("\nOutput:\n") + "\nOutput:\n".length);
        expect(shown, diag).toBe(`write-ok\n4\n${r.denied}/secret: Permission denied\n`);
        expect(r.made).toBe("written\n");
      },
      TEST_TIMEOUT_MS,
    );
  });
});
