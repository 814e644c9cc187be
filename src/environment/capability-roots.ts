/**
 * `capabilityRoots/discoverV1`: skills under each root (skill-walk.ts). A
 * root whose `sandbox` restricts the file system is discovered whole inside
 * the sandboxed fs helper (the reference's helper operation of the same
 * name: one helper per root, not one per file), so a path the sandbox hides
 * or denies is never read by the executor itself: a hidden root answers
 * `failed to inspect capability root …: No such file or directory (os error 2)`,
 * a denied directory inside one a `failed to scan capability path …` warning.
 */
import type { z } from "zod";
import { ErrorCode, RpcError } from "../protocol/errors.ts";
import type { CapabilityRootsDiscoverParams, CapabilityRootsDiscoverResult } from "../protocol/messages/environment.ts";
import type { SandboxContext } from "../protocol/messages/sandbox.ts";
import { type NativePath, joinPath, parsePathUri, toPathUri } from "../protocol/path-uri.ts";
import { getMetadata } from "../fs/files.ts";
import { walkSkills } from "./skill-walk.ts";

type Roots = z.infer<typeof CapabilityRootsDiscoverResult>["roots"];
export type DiscoveredRoot = Roots[number];
/** One root to discover, its URI already checked to name a local path. */
export type RootRequest = { id: string; path: string };

/**
 * How the server enforces a root's sandbox (src/fs/sandboxed.ts): `check`
 * throws the request's error for a sandbox that is malformed or cannot be
 * enforced here; `discover` runs discoverRoot under it.
 */
export type SandboxedDiscovery = {
  check(sandbox: SandboxContext | null | undefined): void;
  discover(root: RootRequest, sandbox: SandboxContext | null | undefined): Promise<DiscoveredRoot>;
};

/** Plugin manifests the reference looks for in every root (execbox reads no plugins; it reports what it cannot inspect). */
const PLUGIN_MANIFESTS = [".codex-plugin/plugin.json", ".claude-plugin/plugin.json", ".cursor-plugin/plugin.json"];

export async function discoverCapabilityRoots(
  params: z.infer<typeof CapabilityRootsDiscoverParams>,
  sandboxed: SandboxedDiscovery,
): Promise<{ roots: Roots }> {
  // A malformed URI fails the whole request; one for another host fails only its root (the reference's split).
  const paths = params.roots.map((r) => {
    try {
      return parsePathUri(r.path);
    } catch (e) {
      if (e instanceof RpcError && e.code === ErrorCode.InvalidRequest) return e;
      throw e;
    }
  });
  // Every sandbox is checked before any root is scanned: a bad one fails the request, never one root (fail closed).
  for (const root of params.roots) sandboxed.check(root.sandbox);
  const roots: Roots = [];
  for (const [i, root] of params.roots.entries()) {
    const path = paths[i]!;
    if (path instanceof RpcError) {
      const uri = new URL(root.path).href;
      roots.push({ ...emptyRoot(root.id, uri), error: `failed to inspect capability root ${uri}: ${path.message}` });
      continue;
    }
    roots.push(await sandboxed.discover({ id: root.id, path: root.path }, root.sandbox));
  }
  return { roots };
}

/** One root, with the process's own file-system access (the executor's, or the sandboxed helper's). */
export async function discoverRoot(root: RootRequest): Promise<DiscoveredRoot> {
  // The root's URI is echoed in its normalized form (`proj/../proj/` → `proj/`).
  const base = emptyRoot(root.id, new URL(root.path).href);
  const path = parsePathUri(root.path);
  try {
    if (!(await getMetadata(path, true)).isDirectory) return { ...base, error: `capability root ${base.path} is not a directory` };
  } catch (e) {
    return rootError(root, e);
  }
  const [walked, manifests] = await Promise.all([walkSkills(path), Promise.all(PLUGIN_MANIFESTS.map((m) => manifestWarnings(path, m)))]);
  return { ...base, skills: walked.skills, warnings: [...walked.warnings, ...manifests.flat()], error: null };
}

async function manifestWarnings(root: NativePath, manifest: string): Promise<string[]> {
  const uri = toPathUri(joinPath(root, manifest));
  return getMetadata(joinPath(root, manifest), true).then(
    () => [],
    (e) => (e instanceof RpcError && e.code === ErrorCode.NotFound ? [] : [`failed to inspect capability file ${uri}: ${messageOf(e)}`]),
  );
}

/** A root that could not be inspected at all. */
export function rootError(root: RootRequest, e: unknown): DiscoveredRoot {
  const uri = new URL(root.path).href;
  return { ...emptyRoot(root.id, uri), error: `failed to inspect capability root ${uri}: ${messageOf(e)}` };
}

function emptyRoot(id: string, path: string): DiscoveredRoot {
  return { id, path, plugin: null, skills: [], namespaceManifests: [], warnings: [], error: null };
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
