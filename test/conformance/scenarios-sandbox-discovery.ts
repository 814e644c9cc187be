/**
 * capabilities.md "capabilityDiscoverySandbox": capability discovery
 * (`capabilityRoots/discoverV1` per root, `capabilities/discoverV2` per cwd)
 * under sandboxes that restrict reads — a hidden root, a readable one, one
 * partly readable, skills in subfolders, symlinks leaving the readable set.
 */
import { build } from "./fs-fixture.ts";
import { type Ctx, type Scenario, ready, req } from "./types.ts";

const SKILL = "---\nname: demo\ndescription: A demo skill\n---\nBody\n";

/** A project whose skills sit at several depths, two symlinks out of it, and a tree outside it. */
function project(dir: string): void {
  build(dir, {
    "proj/.agents/skills/demo/SKILL.md": SKILL,
    "proj/.agents/skills/group/nested/SKILL.md": "---\nname: nested\ndescription: one level down\n---\n",
    "proj/.agents/skills/group/deeper/x/SKILL.md": "---\nname: deeper\ndescription: two levels down\n---\n",
    "proj/.agents/skills/plain.md": "not a skill dir\n",
    "proj/.codex/skills/other/SKILL.md": "other skill\n",
    "proj/.agents/skills/escape": { link: "../../../outside/esc" },
    "proj/.agents/skills/filelink/SKILL.md": { link: "../../../../outside/esc/SKILL.md" },
    "proj/AGENTS.md": "agents\n",
    "outside/esc/SKILL.md": "---\nname: escaped\ndescription: outside\n---\n",
    "elsewhere/x.txt": "x\n",
  });
}

const special = (kind: string) => ({ type: "special", value: { kind } });
const path = (uri: string) => ({ type: "path", path: uri });
type Entry = { path: unknown; access: string };
/** Every policy also reads the server's PATH dir (types.ts `serverBinUri`): the reference's helper starts from there. */
const sandbox = (c: Ctx, entries: Entry[], cwd = `${c.uri}/proj`) => ({
  permissions: {
    type: "managed",
    network: "restricted",
    file_system: { type: "restricted", entries: [...entries, { path: path(c.serverBinUri), access: "read" }] },
  },
  windowsSandboxLevel: "disabled",
  cwd,
});

/** The read sets probed, by name. */
const POLICIES: [string, (c: Ctx) => Entry[]][] = [
  ["hidden", (c) => [{ path: path(`${c.uri}/elsewhere`), access: "read" }]],
  ["readable", (c) => [{ path: path(`${c.uri}/proj`), access: "read" }]],
  ["partly", (c) => [{ path: path(`${c.uri}/proj`), access: "read" }, { path: path(`${c.uri}/proj/.codex`), access: "deny" }]],
  ["only-agents", (c) => [{ path: path(`${c.uri}/proj/.agents`), access: "read" }]],
  ["root-minus-outside", (c) => [{ path: special("root"), access: "read" }, { path: path(`${c.uri}/outside`), access: "deny" }]],
];

const v1 = (name: string, entries: (c: Ctx) => Entry[]) =>
  req("capabilityRoots/discoverV1", (c) => ({ roots: [{ id: name, path: `${c.uri}/proj`, sandbox: sandbox(c, entries(c)) }] }));
const v2 = (entries: (c: Ctx) => Entry[]) => req("capabilities/discoverV2", (c) => ({ cwd: `${c.uri}/proj`, sandbox: sandbox(c, entries(c)) }));

/** Layout edges of the skill walk: depth, hidden names, nesting, links, odd entries. */
function layouts(dir: string): void {
  const deep = (n: number) => `proj/.agents/skills/${Array.from({ length: n }, (_, i) => `d${i + 1}`).join("/")}/SKILL.md`;
  build(dir, {
    ...Object.fromEntries([1, 2, 3, 4, 5, 6, 7, 8].map((n) => [deep(n), `depth ${n}\n`])),
    "proj/.agents/skills/SKILL.md": "top level\n",
    "proj/.agents/skills/.hidden/SKILL.md": "hidden dir\n",
    "proj/.agents/skills/vis/.inner/SKILL.md": "hidden inner\n",
    "proj/.agents/skills/parent/SKILL.md": "parent\n",
    "proj/.agents/skills/parent/child/SKILL.md": "child of a skill\n",
    "proj/.agents/skills/isdir/SKILL.md/x": "SKILL.md is a dir\n",
    "proj/.agents/skills/inlink/SKILL.md": { link: "../parent/SKILL.md" },
    "proj/.agents/skills/alias": { link: "parent" },
    "proj/.agents/skills/loop": { link: "." },
    "proj/.agents/skills/lower/skill.md": "lower case\n",
    "proj/.claude/skills/c/SKILL.md": "claude\n",
    "proj/skills/s/SKILL.md": "bare skills\n",
    "proj/.codex/skills/.system/sys/SKILL.md": "system\n",
    "proj/SKILL.md": "the root itself\n",
    "proj/random/x/SKILL.md": "anywhere in the root\n",
    "proj/a/b/c/d/e/SKILL.md": "root depth 5\n",
    "proj/a/b/c/d/e/f/SKILL.md": "root depth 6\n",
    "proj/a/b/c/d/e/f/g/SKILL.md": "root depth 7\n",
  });
}

export const sandboxDiscoveryScenarios: Scenario[] = [
  {
    name: "sandbox-discovery/v1-walk-layouts",
    setup: layouts,
    steps: [...ready(), req("capabilityRoots/discoverV1", (c) => ({ roots: [{ id: "walk", path: `${c.uri}/proj` }] }))],
  },
  {
    name: "sandbox-discovery/v1-denied-inside",
    setup: project,
    steps: [
      ...ready(),
      ...(
        [
          ["deny-group", ".agents/skills/group"],
          ["deny-skill-file", ".agents/skills/demo/SKILL.md"],
          ["deny-agents", ".agents"],
          ["deny-agents-skills", ".agents/skills"],
        ] as const
      ).map(([name, rel]) =>
        v1(name, (c) => [{ path: path(`${c.uri}/proj`), access: "read" }, { path: path(`${c.uri}/proj/${rel}`), access: "deny" }]),
      ),
    ],
  },
  {
    name: "sandbox-discovery/v1-unsandboxed-subfolders-and-links",
    setup: project,
    steps: [...ready(), req("capabilityRoots/discoverV1", (c) => ({ roots: [{ id: "plain", path: `${c.uri}/proj` }] }))],
  },
  {
    name: "sandbox-discovery/v1-read-restricted",
    setup: project,
    steps: [...ready(), ...POLICIES.map(([name, entries]) => v1(name, entries))],
  },
  {
    name: "sandbox-discovery/v2-read-restricted",
    setup: project,
    steps: [
      ...ready(),
      req("capabilities/discoverV2", (c) => ({ cwd: `${c.uri}/proj` })),
      ...POLICIES.map(([, entries]) => v2(entries)),
    ],
  },
];
