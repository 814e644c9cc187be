/**
 * The skill walk of capabilityRoots/discoverV1 (src/environment/skill-walk.ts)
 * against a real executor (EXECBOX_BIN when set) and real files: skills in
 * subfolders, the depth limit, symlinked directories (followed, once) and
 * files (skipped), and under a sandbox that restricts reads, links out of the
 * readable set, denied subtrees and files — the reference's answers
 * (test/conformance/scenarios-sandbox-discovery.ts plays them against it).
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { sharedExecutor, tempDir } from "../helpers/server.ts";

setDefaultTimeout(60_000);

const executor = sharedExecutor();
const dir = tempDir();
const proj = `${dir.uri}/proj`;
const FILES: Record<string, string> = {
  "proj/.agents/skills/demo/SKILL.md": "demo\n",
  "proj/.agents/skills/group/nested/SKILL.md": "nested\n",
  "proj/.codex/skills/other/SKILL.md": "other\n",
  "proj/random/x/SKILL.md": "anywhere\n",
  "proj/a/b/c/d/e/f/SKILL.md": "depth 6\n",
  "proj/a/b/c/d/e/f/g/SKILL.md": "depth 7\n",
  "outside/esc/SKILL.md": "outside\n",
};
beforeAll(() => {
  for (const [rel, text] of Object.entries(FILES)) {
    mkdirSync(dirname(join(dir.path, rel)), { recursive: true });
    writeFileSync(join(dir.path, rel), text);
  }
  symlinkSync("../../../outside/esc", join(dir.path, "proj/.agents/skills/escape"));
  symlinkSync("../demo/SKILL.md", join(dir.path, "proj/.codex/skills/filelink"));
  symlinkSync("demo", join(dir.path, "proj/.agents/skills/alias"));
});
afterAll(() => dir[Symbol.dispose]());

const path = (uri: string) => ({ type: "path", path: uri });
const readOnly = (entries: object[]) => ({
  permissions: { type: "managed", network: "restricted", file_system: { type: "restricted", entries } },
  windowsSandboxLevel: "disabled",
});
async function discover(sandbox: unknown): Promise<{ skills: string[]; warnings: string[]; error: string | null }> {
  const r = await executor.client.call("capabilityRoots/discoverV1", { roots: [{ id: "r", path: proj, sandbox }] });
  const root = r.result.roots[0];
  const skills = root.skills.map((s: { instructions: { path: string } }) => s.instructions.path.slice(proj.length + 1));
  return { skills, warnings: root.warnings.map((w: string) => w.replaceAll(proj, "<proj>")), error: root.error };
}

test("the whole root is walked breadth first to depth 6; linked directories once, under the first name; linked SKILL.md skipped", async () => {
  expect(await discover(null)).toEqual({
    skills: [
      ".agents/skills/alias/SKILL.md",
      ".agents/skills/escape/SKILL.md",
      ".agents/skills/group/nested/SKILL.md",
      ".codex/skills/other/SKILL.md",
      "a/b/c/d/e/f/SKILL.md",
      "random/x/SKILL.md",
    ],
    warnings: [],
    error: null,
  });
});

test("under a read-restricted sandbox: a link out of the readable set finds nothing; a denied subtree or file is a warning", async () => {
  const readable = { access: "read", path: path(proj) };
  expect(await discover(readOnly([readable]))).toEqual({
    skills: [".agents/skills/alias/SKILL.md", ".agents/skills/group/nested/SKILL.md", ".codex/skills/other/SKILL.md", "a/b/c/d/e/f/SKILL.md", "random/x/SKILL.md"],
    warnings: [],
    error: null,
  });
  const denied = await discover(
    readOnly([readable, { access: "deny", path: path(`${proj}/.agents/skills/group`) }, { access: "deny", path: path(`${proj}/random/x/SKILL.md`) }]),
  );
  expect(denied.warnings).toEqual([
    "failed to scan capability path <proj>/.agents/skills/group: Permission denied (os error 13)",
    "failed to read capability file <proj>/random/x/SKILL.md: Permission denied (os error 13)",
  ]);
  expect(denied.skills).toEqual([".agents/skills/alias/SKILL.md", ".codex/skills/other/SKILL.md", "a/b/c/d/e/f/SKILL.md"]);
});

test("a root outside the readable set: the reference's error, nothing listed", async () => {
  expect(await discover(readOnly([{ access: "read", path: path(`${dir.uri}/outside`) }]))).toEqual({
    skills: [],
    warnings: [],
    error: `failed to inspect capability root ${proj}: No such file or directory (os error 2)`,
  });
});

test("capabilityDiscoverySandbox is reported: this host runs the fs helper under bwrap", async () => {
  const info = await executor.client.call("environment/info", null);
  expect(info.result.capabilities.capabilityDiscoverySandbox).toBe(true);
});
