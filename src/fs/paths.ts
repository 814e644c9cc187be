/** Path checks shared by the fs methods: no-follow resolution and the host-safety guards. */
import { lstat, realpath } from "node:fs/promises";
import { dirname, sep } from "node:path";
import { invalidRequest } from "../protocol/errors.ts";

/** An error object shaped like Node's, so `fromOsError` maps it like a real one. */
export function osError(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(code), { code });
}

/**
 * Walks `path` component by component without following links: a link as the
 * final component is ELOOP, as an intermediate one ENOTDIR — what the kernel
 * reports for O_NOFOLLOW and a no-symlink resolution respectively.
 */
export async function refuseSymlinks(path: string): Promise<void> {
  const parts = path.split(sep).filter(Boolean);
  let current = "";
  for (let i = 0; i < parts.length; i++) {
    current += sep + parts[i];
    const st = await lstat(current).catch((e) => {
      if (e.code === "ENOENT") return undefined;
      throw e;
    });
    if (!st) return;
    if (st.isSymbolicLink()) throw osError(i === parts.length - 1 ? "ELOOP" : "ENOTDIR");
  }
}

/**
 * For metadata and removal without following links: a link among the parent
 * components is ENOTDIR (as the kernel reports), a link as the final
 * component is `path contains a symbolic link`.
 */
export async function refuseFinalSymlink(path: string): Promise<void> {
  try {
    await refuseSymlinks(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ELOOP") throw invalidRequest("path contains a symbolic link");
    throw e;
  }
}

/**
 * Guard for `fs/remove`: removing the root filesystem is refused before
 * anything is touched (the reference, asked to, starts deleting the disk).
 * Checks the lexical path and, for a real directory, where it resolves to.
 */
export async function refuseRootRemoval(path: string): Promise<void> {
  const message = "fs/remove refuses to remove the root directory `/`";
  if (path === sep) throw invalidRequest(message);
  const st = await lstat(path).catch(() => undefined);
  if (st?.isDirectory() && (await realpath(path).catch(() => path)) === sep) throw invalidRequest(message);
}

/** True if `candidate` is `dir` itself or lies below it (both absolute, resolved). */
export function isWithin(candidate: string, dir: string): boolean {
  return candidate === dir || candidate.startsWith(dir.endsWith(sep) ? dir : dir + sep);
}

/** Resolves the parent directory of `path` through links, keeping the final name. */
export async function resolveParent(path: string): Promise<string> {
  const parent = await realpath(dirname(path)).catch(() => dirname(path));
  const name = path.slice(dirname(path).length);
  return parent === sep ? name : parent + name;
}
