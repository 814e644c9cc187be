/**
 * Capability discovery and config reads. execbox has no Codex configuration of
 * its own, so it answers with empty-but-valid results, except for skills,
 * which it finds in `<root>/.agents/skills/*\/SKILL.md` and `<root>/.codex/skills/*\/SKILL.md`.
 */
import { hostname } from "node:os";
import { join } from "node:path";
import { readdir, stat } from "node:fs/promises";
import { ErrorCode, RpcError, invalidParams, osErrorText } from "../protocol/errors.ts";
import type { z } from "zod";
import type {
  CapabilityRootsDiscoverParams,
  CapabilityRootsDiscoverResult,
  EnvironmentConfigReadParams,
  EnvironmentConfigReadResult,
} from "../protocol/messages/environment.ts";
import { type NativePath, joinPath, parsePathUri, toPathUri } from "../protocol/path-uri.ts";

const SKILL_DIRS = [".agents/skills", ".codex/skills"];
const SKILL_FILE = "SKILL.md";

export function discoverCapabilities(cwd: string) {
  try {
    parsePathUri(cwd);
  } catch (e) {
    // A well-formed URI for another host is not an error here (the reference answers empty).
    if (!(e instanceof RpcError && e.code === ErrorCode.InvalidRequest)) throw e;
  }
  return { plugins: [], skills: [], warnings: [] };
}

type Roots = z.infer<typeof CapabilityRootsDiscoverResult>["roots"];

export async function discoverCapabilityRoots(
  params: z.infer<typeof CapabilityRootsDiscoverParams>,
): Promise<{ roots: Roots }> {
  const paths = params.roots.map((r) => parsePathUri(r.path));
  const roots: Roots = [];
  for (const [i, root] of params.roots.entries()) {
    // The root's URI is echoed in its normalized form (`proj/../proj/` → `proj/`).
    const base = { id: root.id, path: new URL(root.path).href, plugin: null, skills: [], namespaceManifests: [], warnings: [] };
    try {
      if (!(await stat(paths[i]!)).isDirectory()) {
        roots.push({ ...base, error: `capability root ${base.path} is not a directory` });
        continue;
      }
      roots.push({ ...base, skills: await findSkills(paths[i]!), error: null });
    } catch (e) {
      roots.push({ ...base, error: `failed to inspect capability root ${base.path}: ${osErrorText(e)}` });
    }
  }
  return { roots };
}

async function findSkills(root: NativePath) {
  const skills = [];
  for (const dir of SKILL_DIRS) {
    const names = await readdir(joinPath(root, dir)).catch(() => [] as string[]);
    for (const name of names.sort()) {
      const file = joinPath(root, join(dir, name, SKILL_FILE));
      // A Buffer is a path to Bun.file, as it is to node:fs.
      const contents = await Bun.file(file as string)
        .text()
        .catch(() => undefined);
      if (contents !== undefined) skills.push({ instructions: { path: toPathUri(file), contents }, metadata: null });
    }
  }
  return skills;
}

export function readEnvironmentConfig(
  params: z.infer<typeof EnvironmentConfigReadParams>,
  env: Record<string, string | undefined>,
): z.infer<typeof EnvironmentConfigReadResult> {
  parsePathUri(params.cwd);
  if (params.configPaths.length === 0 && params.requirementsPaths.length === 0) {
    throw invalidParams("at least one config or requirements path is required");
  }
  const codexHome = env.CODEX_HOME ?? (env.HOME ? join(env.HOME, ".codex") : undefined);
  return {
    ...(env.HOME ? { userHomeDir: toPathUri(env.HOME) } : {}),
    ...(codexHome ? { codexHomeDir: toPathUri(codexHome) } : {}),
    hostname: hostname(),
    config: { layers: [], cloudInsertionIndex: 0 },
    requirements: { layers: [], cloudInsertionIndex: 0 },
  };
}
