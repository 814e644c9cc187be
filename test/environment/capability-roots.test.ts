/**
 * capabilityRoots/discoverV1 honours each root's `sandbox`: it is checked as
 * the reference checks it, and the scan runs under it (the sandboxed fs
 * helper), so a root the sandbox denies is never read. Against a real
 * executor (EXECBOX_BIN when set) and real files in a temp dir.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sharedExecutor, tempDir } from "../helpers/server.ts";
import { special } from "../helpers/sandbox.ts";

setDefaultTimeout(60_000);

const executor = sharedExecutor();
const dir = tempDir();
const root = join(dir.path, "root");
const rootUri = `${dir.uri}/root`;
beforeAll(() => {
  mkdirSync(join(root, ".agents/skills/s1"), { recursive: true });
  writeFileSync(join(root, ".agents/skills/s1/SKILL.md"), "secret skill\n");
});
afterAll(() => dir[Symbol.dispose]());

const managed = (entries: object[], extra: object = {}) => ({
  permissions: { type: "managed", network: "restricted", file_system: { type: "restricted", entries } },
  windowsSandboxLevel: "disabled",
  ...extra,
});
const discover = (sandbox: unknown) => executor.client.call("capabilityRoots/discoverV1", { roots: [{ id: "r1", path: rootUri, sandbox }] });
const emptyRoot = { id: "r1", path: rootUri, plugin: null, skills: [], namespaceManifests: [], error: null };

test("a root the sandbox denies is not scanned: the reference's warnings, no skills", async () => {
  const sandbox = managed([
    { access: "read", path: special("root") },
    { access: "write", path: { type: "path", path: dir.uri } },
    { access: "deny", path: { type: "path", path: rootUri } },
  ]);
  const denied = "Permission denied (os error 13)";
  expect((await discover(sandbox)).result).toEqual({
    roots: [
      {
        ...emptyRoot,
        warnings: [
          `failed to scan capability path ${rootUri}: ${denied}`,
          `failed to inspect capability file ${rootUri}/.codex-plugin/plugin.json: ${denied}`,
          `failed to inspect capability file ${rootUri}/.claude-plugin/plugin.json: ${denied}`,
          `failed to inspect capability file ${rootUri}/.cursor-plugin/plugin.json: ${denied}`,
        ],
      },
    ],
  });
});

test("a readable root under a sandbox still lists its skills; without a sandbox too", async () => {
  const skills = [{ instructions: { path: `${rootUri}/.agents/skills/s1/SKILL.md`, contents: "secret skill\n" }, metadata: null }];
  for (const sandbox of [managed([{ access: "read", path: special("root") }]), null]) {
    expect((await discover(sandbox)).result).toEqual({ roots: [{ ...emptyRoot, skills, warnings: [] }] });
  }
});

test("a malformed sandbox fails the request with the reference's text, before any root is scanned", async () => {
  const cases: [unknown, number, string][] = [
    ["x", -32602, 'invalid type: string "x", expected struct WireFileSystemSandboxContext'],
    [{}, -32602, "missing field `permissions`"],
    [[], -32602, "invalid length 0, expected struct WireFileSystemSandboxContext with 10 elements"],
    [{ permissions: { type: "disabled" } }, -32602, "missing field `windowsSandboxLevel`"],
    [managed([{ access: "deny", path: { type: "glob_pattern", pattern: "**/*.txt" } }]), -32602, "file system sandbox context with dynamic permissions requires cwd"],
    [managed([{ access: "read", path: { type: "path", path: "rel" } }]), -32602, "invalid URI: relative URL without a base"],
    [managed([{ access: "read", path: { type: "path", path: dir.path } }]), -32602, "invalid URI: relative URL without a base"],
  ];
  const answers = [];
  for (const [sandbox] of cases) answers.push((await discover(sandbox)).error);
  expect(answers).toEqual(cases.map(([, code, message]) => ({ code, message })));
});

test("roots: the reference's type name; a root on another host fails only that root", async () => {
  expect((await executor.client.call("capabilityRoots/discoverV1", { roots: [5] })).error).toEqual({
    code: -32602,
    message: "invalid type: number, expected struct WireCapabilityRootDiscoverRequest",
  });
  const other = "file://otherhost/tmp";
  const r = await executor.client.call("capabilityRoots/discoverV1", { roots: [{ id: "a", path: other }, { id: "b", path: rootUri }] });
  expect(r.result.roots.map((x: { id: string; error: string | null }) => [x.id, x.error])).toEqual([
    ["a", `failed to inspect capability root ${other}: '${other}' is invalid on 'linux'`],
    ["b", null],
  ]);
});
