/**
 * `fs/walk`: breadth-first listing under a root, names sorted bytewise per
 * directory, bounded by depth, directory, entry and response-size limits.
 * Directories are remembered by real path, so symlink cycles terminate.
 */
import type { Dirent } from "node:fs";
import { lstat, readdir, realpath, stat } from "node:fs/promises";
import { invalidRequest, osErrorText } from "../protocol/errors.ts";
import type { FsWalkOptions } from "../protocol/messages/fs.ts";
import { type NativePath, byteText, joinPath, toPathUri } from "../protocol/path-uri.ts";
import { joinPath as rustJoin } from "./rust-path.ts";
import { fsCall } from "./files.ts";

export const WALK_MAX_DEPTH = 64;
export const WALK_MAX_DIRECTORIES = 10_000;
export const WALK_MAX_ENTRIES = 50_000;
/** Stop adding entries once the listed paths would exceed this (reference: 4 MiB). */
export const WALK_MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

type Entry = { path: string; kind: "file" | "directory" };

export function checkWalkLimits(o: FsWalkOptions): void {
  // maxDepth 0 is allowed: it lists the root's children only.
  if (o.maxDirectories === 0 || o.maxEntries === 0) {
    throw invalidRequest("filesystem walk limits must be greater than zero");
  }
  if (o.maxDepth > WALK_MAX_DEPTH || o.maxDirectories > WALK_MAX_DIRECTORIES || o.maxEntries > WALK_MAX_ENTRIES) {
    throw invalidRequest(
      `filesystem walk limits exceed maximums: depth=${WALK_MAX_DEPTH}, directories=${WALK_MAX_DIRECTORIES}, entries=${WALK_MAX_ENTRIES}`,
    );
  }
}

/**
 * The root as the client wrote it (`uri`), for the entry paths: the reference
 * joins names onto the path it was given, so a `//` there stays in every entry,
 * while `parsePathUri` collapses it. Empty URI segments are put back between
 * the parsed ones; when the two do not line up (an encoded `/`), the parsed root is used.
 */
export function rootAsWritten(uri: string, root: string): string {
  let segments: string[];
  try {
    segments = new URL(uri).pathname.split("/");
  } catch {
    return root;
  }
  const parts = root.split("/").filter(Boolean);
  let next = 0;
  const rebuilt = segments.map((segment) => (segment === "" ? "" : parts[next++]));
  return next === parts.length ? rebuilt.join("/") : root;
}

/** An entry's path as the reference joins it (Rust's `Path::join`: a `//` the client wrote stays), byte-exact for a path that is not UTF-8. */
const entryPath = (dir: NativePath, name: string): NativePath => (typeof dir === "string" ? rustJoin(dir, name) : joinPath(dir, name));

export async function walk(parsedRoot: NativePath, o: FsWalkOptions, uri?: string) {
  const root = uri !== undefined && typeof parsedRoot === "string" ? rootAsWritten(uri, parsedRoot) : parsedRoot;
  checkWalkLimits(o);
  const rootStat = await fsCall(async () => {
    const target = await stat(root); // a dangling root is not found, followed or not
    return (await lstat(root)).isSymbolicLink() && !o.followDirectorySymlinks ? undefined : target;
  });
  const result = { entries: [] as Entry[], errors: [] as { path: string; message: string }[], truncated: false };
  // A file root, or a symlinked root while links are not followed, has nothing to walk.
  if (!rootStat?.isDirectory()) return result;
  const visited = new Set([await realKey(root)]);
  const queue: { dir: NativePath; level: number }[] = [{ dir: root, level: 0 }];
  let listed = 0;
  let examined = 0;
  let bytes = 0;
  while (queue.length > 0) {
    const { dir, level } = queue.shift()!;
    if (listed >= o.maxDirectories) return { ...result, truncated: true };
    listed++;
    let dirents: Dirent[];
    try {
      dirents = await readdir(dir, { withFileTypes: true });
    } catch (e) {
      result.errors.push({ path: toPathUri(dir), message: osErrorText(e) });
      continue;
    }
    dirents.sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)));
    for (const d of dirents) {
      const path = entryPath(dir, d.name);
      // Dangling links are not entries at all (the reference does not count them).
      if (d.isSymbolicLink() && !(await exists(path))) continue;
      if (examined >= o.maxEntries) return { ...result, truncated: true };
      examined++;
      let kind: Entry["kind"] | undefined;
      try {
        kind = await classify(d, path, o.followDirectorySymlinks);
      } catch (e) {
        result.errors.push({ path: toPathUri(path), message: osErrorText(e) });
        continue;
      }
      if (!kind) continue;
      const uri = toPathUri(path);
      bytes += uri.length + 32;
      if (bytes > WALK_MAX_RESPONSE_BYTES) return { ...result, truncated: true };
      result.entries.push({ path: uri, kind });
      if (kind !== "directory" || level + 1 > o.maxDepth) continue;
      if ((o.pruneHiddenDirectories ?? false) && d.name.startsWith(".")) continue;
      const real = await realKey(path).catch(() => byteText(path));
      if (visited.has(real)) continue;
      visited.add(real);
      queue.push({ dir: path, level: level + 1 });
    }
  }
  return result;
}

/** A directory's real path, byte-exact, to remember it by. */
async function realKey(path: NativePath): Promise<string> {
  return byteText(await realpath(path, { encoding: "buffer" }));
}

async function exists(path: NativePath): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** The entry's kind, or undefined when it is not listed; throws when a lossy name is not found. */
async function classify(d: Dirent, path: NativePath, followLinks: boolean): Promise<Entry["kind"] | undefined> {
  // A name that is not UTF-8 comes as lossy text (U+FFFD), which the reference looks up
  // as a path of its own: usually not found (an error entry), else that file's kind.
  const st = d.name.includes("\uFFFD") ? await lstat(path) : d;
  if (st.isDirectory()) return "directory";
  if (st.isFile()) return "file";
  if (st.isSymbolicLink() && followLinks) {
    const target = await stat(path).catch(() => undefined);
    return target?.isDirectory() ? "directory" : undefined;
  }
  return undefined;
}
