/**
 * The skill walk of `capabilityRoots/discoverV1`, as the reference walks
 * (probed: scenarios-sandbox-discovery.ts): every directory of the root,
 * hidden ones too, breadth first in name order down to MAX_SKILL_SCAN_DEPTH,
 * collecting regular files named SKILL.md (a symlinked SKILL.md is skipped).
 * A symlinked directory is followed under its own name, but a directory whose
 * canonical path was seen already is not walked again (`alias -> parent`
 * lists the skills once, under `alias`). It runs in the executor, or in the
 * sandboxed fs helper under a restricted policy: a link out of the readable
 * set then finds nothing there, silently, as the reference's.
 */
import { lstat, readFile, readdir, realpath, stat } from "node:fs/promises";
import { ErrorCode, RpcError } from "../protocol/errors.ts";
import { type NativePath, joinPath, toPathUri } from "../protocol/path-uri.ts";
import { fsCall } from "../fs/files.ts";

/** Deepest directory walked, the root being 0 (the reference finds `a/b/c/d/e/f/SKILL.md`, not one level more). */
export const MAX_SKILL_SCAN_DEPTH = 6;
/**
 * Directories walked per root at most: a root holding a huge tree (a home
 * directory, node_modules) answers in bounded time. Upstream's loader caps
 * its walk at the same count [src, not probed].
 */
export const MAX_SKILL_SCAN_DIRS = 2000;
const SKILL_FILE = "SKILL.md";

export type FoundSkill = { instructions: { path: string; contents: string }; metadata: null };

export async function walkSkills(root: NativePath): Promise<{ skills: FoundSkill[]; warnings: string[] }> {
  const warnings: string[] = [];
  const files: NativePath[] = [];
  const seen = new Set<string>([await canonicalKey(root)]);
  let queue: NativePath[] = [root];
  for (let depth = 0; queue.length > 0 && depth <= MAX_SKILL_SCAN_DEPTH; depth++) {
    const next: NativePath[] = [];
    for (const dir of queue) {
      let names: string[];
      try {
        names = (await fsCall(() => readdir(dir))).sort(byBytes);
      } catch (e) {
        if (!isNotFound(e)) warnings.push(`failed to scan capability path ${toPathUri(dir)}: ${messageOf(e)}`);
        continue;
      }
      for (const name of names) {
        const path = joinPath(dir, name);
        const kind = await entryKind(path);
        if (kind === "skill" && name === SKILL_FILE) files.push(path);
        if (kind !== "dir" || depth === MAX_SKILL_SCAN_DEPTH) continue;
        const key = await canonicalKey(path).catch(() => null);
        if (key === null || seen.has(key) || seen.size >= MAX_SKILL_SCAN_DIRS) continue;
        seen.add(key);
        next.push(path);
      }
    }
    queue = next;
  }
  const skills: FoundSkill[] = [];
  for (const file of files.sort((a, b) => byBytes(toPathUri(a), toPathUri(b)))) {
    try {
      const contents = (await fsCall(() => readFile(file))).toString("utf8");
      skills.push({ instructions: { path: toPathUri(file), contents }, metadata: null });
    } catch (e) {
      warnings.push(`failed to read capability file ${toPathUri(file)}: ${messageOf(e)}`);
    }
  }
  return { skills, warnings };
}

/** A directory (followed through links), a regular non-link file, or anything else (skipped). */
async function entryKind(path: NativePath): Promise<"dir" | "skill" | "other"> {
  const link = await lstat(path).catch(() => null);
  if (!link) return "other";
  if (link.isDirectory()) return "dir";
  if (link.isFile()) return "skill";
  if (!link.isSymbolicLink()) return "other";
  const target = await stat(path).catch(() => null);
  return target?.isDirectory() ? "dir" : "other";
}

async function canonicalKey(path: NativePath): Promise<string> {
  return (await realpath(path, { encoding: "buffer" })).toString("latin1");
}

const byBytes = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));
const isNotFound = (e: unknown): boolean => e instanceof RpcError && e.code === ErrorCode.NotFound;
const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));
