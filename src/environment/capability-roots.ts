/**
 * `capabilityRoots/discoverV1`: skills under each root, found through fs
 * operations run under that root's `sandbox` (the sandboxed fs helper when it
 * restricts the file system, as fs/* requests), so a path the sandbox denies
 * is never read by the executor itself. A denied root yields the reference's
 * warnings (`failed to scan capability path …: Permission denied (os error 13)`)
 * instead of its contents.
 */
import { join } from "node:path";
import type { z } from "zod";
import { ErrorCode, RpcError } from "../protocol/errors.ts";
import type { CapabilityRootsDiscoverParams, CapabilityRootsDiscoverResult } from "../protocol/messages/environment.ts";
import type { SandboxContext } from "../protocol/messages/sandbox.ts";
import type { ParamsOf, ResultOf } from "../protocol/methods.ts";
import { type NativePath, joinPath, parsePathUri, toPathUri } from "../protocol/path-uri.ts";

type ScanMethod = "fs/getMetadata" | "fs/readDirectory" | "fs/readFile";
/**
 * How the server enforces a root's sandbox (src/fs/sandboxed.ts): `check`
 * throws the request's error for a sandbox that is malformed or cannot be
 * enforced here; `run` is one fs operation under it (null: none).
 */
export type SandboxedFs = {
  check(sandbox: SandboxContext | null | undefined): void;
  run<M extends ScanMethod>(method: M, params: Omit<ParamsOf<M>, "sandbox">, sandbox: SandboxContext | null | undefined): Promise<ResultOf<M>>;
};
type Roots = z.infer<typeof CapabilityRootsDiscoverResult>["roots"];

const SKILL_DIRS = [".agents/skills", ".codex/skills"];
const SKILL_FILE = "SKILL.md";
/** Plugin manifests the reference looks for in every root (execbox reads no plugins; it reports what it cannot inspect). */
const PLUGIN_MANIFESTS = [".codex-plugin/plugin.json", ".claude-plugin/plugin.json", ".cursor-plugin/plugin.json"];

export async function discoverCapabilityRoots(params: z.infer<typeof CapabilityRootsDiscoverParams>, fs: SandboxedFs): Promise<{ roots: Roots }> {
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
  for (const root of params.roots) fs.check(root.sandbox);
  const roots: Roots = [];
  for (const [i, root] of params.roots.entries()) {
    // The root's URI is echoed in its normalized form (`proj/../proj/` → `proj/`).
    const base = { id: root.id, path: new URL(root.path).href, plugin: null, skills: [], namespaceManifests: [], warnings: [] };
    const path = paths[i]!;
    if (path instanceof RpcError) {
      roots.push({ ...base, error: `failed to inspect capability root ${base.path}: ${path.message}` });
      continue;
    }
    const scoped: ScopedFs = (method, p) => fs.run(method, p, root.sandbox);
    try {
      if (!(await scoped("fs/getMetadata", { path: toPathUri(path) })).isDirectory) {
        roots.push({ ...base, error: `capability root ${base.path} is not a directory` });
        continue;
      }
    } catch (e) {
      roots.push({ ...base, error: `failed to inspect capability root ${base.path}: ${messageOf(e)}` });
      continue;
    }
    // Each operation is a helper run under a restricted sandbox: they go at once, the warnings keep the reference's order.
    const scan = scoped("fs/readDirectory", { path: toPathUri(path) }).then(
      () => [],
      (e) => [`failed to scan capability path ${base.path}: ${messageOf(e)}`],
    );
    const manifests = PLUGIN_MANIFESTS.map((manifest) => {
      const uri = toPathUri(joinPath(path, manifest));
      return scoped("fs/getMetadata", { path: uri }).then(
        () => [],
        (e) => (e instanceof RpcError && e.code === ErrorCode.NotFound ? [] : [`failed to inspect capability file ${uri}: ${messageOf(e)}`]),
      );
    });
    const [warnings, skills] = await Promise.all([Promise.all([scan, ...manifests]).then((w) => w.flat()), findSkills(path, scoped)]);
    roots.push({ ...base, skills, warnings, error: null });
  }
  return { roots };
}

type ScopedFs = <M extends ScanMethod>(method: M, params: Omit<ParamsOf<M>, "sandbox">) => Promise<ResultOf<M>>;

async function findSkills(root: NativePath, fs: ScopedFs) {
  const found = SKILL_DIRS.map(async (dir) => {
    // Joined byte-exact: a root whose path is not UTF-8 keeps its bytes (names listed come back lossy, as the reference's).
    const listing = await fs("fs/readDirectory", { path: toPathUri(joinPath(root, dir)) }).catch(() => ({ entries: [] }));
    const files = listing.entries.map((e) => joinPath(root, join(dir, e.fileName, SKILL_FILE))).sort();
    const skills = [];
    // One at a time: under a restricted sandbox each read is a helper process, and a root may hold many skills.
    for (const file of files) {
      const read = await fs("fs/readFile", { path: toPathUri(file) }).catch(() => undefined);
      if (read) skills.push({ instructions: { path: toPathUri(file), contents: Buffer.from(read.dataBase64, "base64").toString("utf8") }, metadata: null });
    }
    return skills;
  });
  return (await Promise.all(found)).flat();
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
