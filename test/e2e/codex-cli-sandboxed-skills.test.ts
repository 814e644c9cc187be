/**
 * End-to-end: the real Codex CLI (0.169.0 and 0.171.0) under a permissions profile that restricts
 * reads discovers skills through execbox's sandboxed fs methods (capabilityDiscoverySandbox,
 * sandboxed fs helper): every `fs/getMetadata`, `fs/canonicalize`, `fs/walk` and `fs/readFile` it
 * sends for skill roots carries the profile as `sandbox`, and execbox answers within it. A skill in
 * the readable workspace reaches the model; one beside it, outside the readable set, does not.
 *
 * Probed: `codex exec` discovers skills with those fs methods (not `capabilityRoots/discoverV1`),
 * in `<dir>/.agents/skills` of the cwd and each parent up to `/`.
 *
 *   default_permissions = "ro"
 *   [permissions.ro.filesystem]
 *   "<work>" = "read"      (plus /usr, /bin, /lib so the helper can run)
 *
 * Needs bwrap on PATH (CI installs bubblewrap).
 */
import { describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as cli from "../helpers/codex-cli.ts";
import { startServer, tempDir } from "../helpers/server.ts";
import { startWsTap } from "../helpers/ws-tap.ts";

const CODEX_DEADLINE_MS = 20_000;
const TEST_TIMEOUT_MS = 45_000;

function skill(root: string, name: string, description: string): void {
  mkdirSync(join(root, ".agents/skills", name), { recursive: true });
  writeFileSync(join(root, ".agents/skills", name, "SKILL.md"), `---\nname: ${name}\ndescription: ${description}\n---\nDo it.\n`);
}

async function session(codex: { path: string }) {
  using tmp = tempDir("execbox-codex-skills-");
  const [work, codexHome, home, execboxHome] = ["work", "codex-home", "home", "execbox-home"].map((d) => join(tmp.path, d));
  for (const d of [work, codexHome, home, execboxHome]) mkdirSync(d!, { recursive: true });
  skill(work!, "greet-visible", "a readable workspace skill");
  // In the parent of the workspace: the CLI looks there too, but the profile cannot read it.
  skill(tmp.path, "hidden-outside", "a skill outside the readable set");
  const profile = `\n[permissions.ro.filesystem]\n"${work}" = "read"\n"/usr" = "read"\n"/bin" = "read"\n"/lib" = "read"\n`;
  await using api = cli.startFakeResponsesApi([[cli.assistantMessage("skills listed")]]);
  cli.writeCodexHome(codexHome!, { baseUrl: api.baseUrl, model: cli.pickBundledModel(codex.path, codexHome!), extra: { topLevel: 'default_permissions = "ro"', tables: profile } });
  await using server = await startServer([], { env: { ...process.env, HOME: execboxHome!, CODEX_HOME: join(execboxHome!, ".codex") } });
  await using tap = startWsTap(server.url);
  const run = await cli.runCodexExec({ codex: codex.path, codexHome: codexHome!, home: home!, cwd: work!, execServerUrl: tap.url, prompt: "List your skills.", timeoutMs: CODEX_DEADLINE_MS });
  const skillRequests = tap.frames.filter((f) => f.from === "client" && typeof f.message.method === "string" && f.message.method.startsWith("fs/") && JSON.stringify(f.message.params).includes(".agents/skills"));
  type Answer = { result?: { entries?: unknown }; error?: { code: number } };
  const answers = new Map(tap.frames.filter((f) => f.from === "executor" && f.message.id !== undefined).map((f) => [f.message.id, f.message as Answer]));
  return { run, firstPrompt: JSON.stringify(api.requests[0] ?? {}), skillRequests, answers, work: work!, parent: tmp.path };
}

cli.forEachCodexCli("sandboxed-skills e2e", (codex, version) => {
  describe(`codex ${codex.version} CLI → execbox, read-restricted profile`, () => {
    test(
      "skills are discovered inside the sandbox: the readable one reaches the model, the unreadable one does not",
      async () => {
        const r = await session(codex);
        const diag = `codex exit=${r.run.exitCode} timedOut=${r.run.timedOut}\n--- stderr\n${r.run.stderr}`;
        expect(r.run.timedOut, diag).toBe(false);
        expect(r.run.exitCode, diag).toBe(0);
        // Every skill lookup carried the profile, and the walk of the workspace root found the readable skill.
        expect(r.skillRequests.length, diag).toBeGreaterThan(0);
        expect(r.skillRequests.every((f) => (f.message.params as { sandbox?: { permissions?: { type?: string } } }).sandbox?.permissions?.type === "managed"), diag).toBe(true);
        const walk = r.skillRequests.find((f) => f.message.method === "fs/walk" && (f.message.params as { path: string }).path === `file://${r.work}/.agents/skills`);
        expect(walk, diag).toBeDefined();
        expect(r.answers.get(walk!.message.id)?.result?.entries, diag).toEqual([
          { path: `file://${r.work}/.agents/skills/greet-visible`, kind: "directory" },
          { path: `file://${r.work}/.agents/skills/greet-visible/SKILL.md`, kind: "file" },
        ]);
        // The parent's skill root is hidden by the sandbox: not found there.
        const hidden = r.skillRequests.find((f) => f.message.method === "fs/getMetadata" && (f.message.params as { path: string }).path === `file://${r.parent}/.agents/skills`);
        expect(hidden, diag).toBeDefined();
        expect(r.answers.get(hidden!.message.id)?.error?.code, diag).toBe(-32004);
        expect(r.firstPrompt.includes("greet-visible"), diag).toBe(true);
        expect(r.firstPrompt.includes("hidden-outside"), diag).toBe(false);
      },
      TEST_TIMEOUT_MS,
    );
  });
});
