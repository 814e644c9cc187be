/**
 * README §11: environment/info, environment/status, capability discovery and
 * environmentConfig/read, including their params validation.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Scenario, ready, req } from "./types.ts";

const SKILL = "---\nname: demo\ndescription: A demo skill\n---\nBody\n";

/** A project with one skill in each supported location, plus a plain file (all inside the scenario dir). */
function project(dir: string): void {
  mkdirSync(join(dir, "proj/.agents/skills/demo"), { recursive: true });
  writeFileSync(join(dir, "proj/.agents/skills/demo/SKILL.md"), SKILL);
  mkdirSync(join(dir, "proj/.codex/skills/other"), { recursive: true });
  writeFileSync(join(dir, "proj/.codex/skills/other/SKILL.md"), "other skill\n");
  mkdirSync(join(dir, "proj/.agents/skills/no-skill-file"), { recursive: true });
  mkdirSync(join(dir, "with space"), { recursive: true });
  writeFileSync(join(dir, "plain.txt"), "x");
}

export const envScenarios: Scenario[] = [
  {
    name: "env/info-params",
    steps: [
      ...ready(),
      req("environment/info"),
      req("environment/info", null),
      req("environment/info", {}),
      req("environment/info", { a: 1 }),
      req("environment/info", []),
      req("environment/info", "x"),
      req("environment/info", 1),
    ],
  },
  {
    name: "env/status-params",
    steps: [
      ...ready(),
      req("environment/status"),
      req("environment/status", {}),
      req("environment/status", null),
      req("environment/status", { a: 1 }),
      req("environment/status", []),
      req("environment/status", [1]),
      req("environment/status", false),
    ],
  },
  {
    name: "env/capabilities-discoverV2",
    setup: project,
    steps: [
      ...ready(),
      req("capabilities/discoverV2", (c) => ({ cwd: c.uri })),
      req("capabilities/discoverV2", (c) => ({ cwd: `${c.uri}/proj` })),
      req("capabilities/discoverV2", (c) => ({ cwd: `${c.uri}/missing` })),
      req("capabilities/discoverV2", (c) => ({ cwd: `${c.uri}/plain.txt` })),
      req("capabilities/discoverV2", (c) => ({ cwd: c.uri, sandbox: null })),
      req("capabilities/discoverV2", {}),
      req("capabilities/discoverV2", (c) => ({ cwd: c.dir })),
      req("capabilities/discoverV2", { cwd: "proj" }),
      req("capabilities/discoverV2", { cwd: "http://example.com/x" }),
      req("capabilities/discoverV2", (c) => ({ cwd: `${c.uri}?x=1` })),
      req("capabilities/discoverV2", (c) => ({ cwd: `${c.uri}#frag` })),
      req("capabilities/discoverV2", { cwd: "file://otherhost/p" }),
      req("capabilities/discoverV2", { cwd: 5 }),
    ],
  },
  {
    name: "env/capabilityRoots-discoverV1",
    setup: project,
    steps: [
      ...ready(),
      req("capabilityRoots/discoverV1", (c) => ({
        roots: [
          { id: "root-1", path: `${c.uri}/proj` },
          { id: "root-2", path: `${c.uri}/missing` },
        ],
      })),
      req("capabilityRoots/discoverV1", { roots: [] }),
      req("capabilityRoots/discoverV1", (c) => ({ roots: [{ id: "file", path: `${c.uri}/plain.txt` }] })),
      req("capabilityRoots/discoverV1", (c) => ({ roots: [{ id: "space", path: `${c.uri}/with%20space` }] })),
      req("capabilityRoots/discoverV1", (c) => ({ roots: [{ id: "dots", path: `${c.uri}/proj/../proj/` }] })),
      req("capabilityRoots/discoverV1", (c) => ({ roots: [{ id: "dup", path: `${c.uri}/proj` }, { id: "dup", path: `${c.uri}/proj` }] })),
      req("capabilityRoots/discoverV1", {}),
      req("capabilityRoots/discoverV1", (c) => ({ roots: [{ path: c.uri }] })),
      req("capabilityRoots/discoverV1", { roots: [{ id: "r" }] }),
      req("capabilityRoots/discoverV1", { roots: [{ id: "r", path: "relative" }] }),
      req("capabilityRoots/discoverV1", { roots: "x" }),
    ],
  },
  {
    name: "env/environmentConfig-read",
    setup: project,
    steps: [
      ...ready(),
      req("environmentConfig/read", (c) => ({ cwd: `${c.uri}/proj`, configPaths: [["model"]], requirementsPaths: [] })),
      req("environmentConfig/read", (c) => ({ cwd: c.uri, configPaths: [], requirementsPaths: [["sandbox", "mode"]] })),
      req("environmentConfig/read", (c) => ({ cwd: `${c.uri}/missing`, configPaths: [["model"]], requirementsPaths: [] })),
      req("environmentConfig/read", (c) => ({ cwd: c.uri, configPaths: [], requirementsPaths: [] })),
      req("environmentConfig/read", (c) => ({ cwd: c.uri, configPaths: ["model"], requirementsPaths: [] })),
      req("environmentConfig/read", (c) => ({ cwd: c.uri, configPaths: [["model"]] })),
      req("environmentConfig/read", { configPaths: [["model"]], requirementsPaths: [] }),
      req("environmentConfig/read", { cwd: "relative", configPaths: [["model"]], requirementsPaths: [] }),
      req("environmentConfig/read", { cwd: "relative", configPaths: [], requirementsPaths: [] }),
    ],
  },
];
