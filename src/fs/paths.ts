/** Path checks shared by the fs methods: no-follow resolution and the host-safety guards. */
import { lstat, realpath, stat } from "node:fs/promises";
import { basename, dirname, join, sep } from "node:path";
import { invalidRequest } from "../protocol/errors.ts";
import { type NativePath, byteText, fromByteText } from "../protocol/path-uri.ts";

/** An error object shaped like Node's, so `fromOsError` maps it like a real one. */
export function osError(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(code), { code });
}

/**
 * Walks `path` component by component without following links: a link as the
 * final component is ELOOP, as an intermediate one ENOTDIR — what the kernel
 * reports for O_NOFOLLOW and a no-symlink resolution respectively.
 */
export async function refuseSymlinks(path: NativePath): Promise<void> {
  const parts = byteText(path).split(sep).filter(Boolean);
  let current = "";
  for (let i = 0; i < parts.length; i++) {
    current += sep + parts[i];
    const st = await lstat(fromByteText(current)).catch((e) => {
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
export async function refuseFinalSymlink(path: NativePath): Promise<void> {
  try {
    await refuseSymlinks(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ELOOP") throw invalidRequest("path contains a symbolic link");
    throw e;
  }
}

/** A file's identity on this host: what GNU rm's --preserve-root compares, since one directory can have many paths. */
export type FileIdentity = { dev: bigint; ino: bigint };

export async function identityOf(path: NativePath): Promise<FileIdentity> {
  const st = await stat(path, { bigint: true });
  return { dev: st.dev, ino: st.ino };
}

export const sameFile = (a: FileIdentity, b: FileIdentity) => a.dev === b.dev && a.ino === b.ino;

/**
 * Refuses a path whose last component is `.` or `..` (GNU rm: "refusing to
 * remove '.' or '..' directory"), before anything is touched. Such a path
 * only arrives with an encoded slash (`link%2F..`), and through a link it
 * names a directory elsewhere: `link/..` is the parent of the link's target.
 */
export function refuseDotName(path: NativePath, method: "fs/remove" | "fs/copy"): void {
  const text = byteText(path);
  const last = text.slice(text.lastIndexOf(sep) + 1);
  if (last === "." || last === "..") {
    const what = method === "fs/remove" ? "remove" : "copy to";
    throw invalidRequest(`${method} refuses to ${what} a path whose last component is \`.\` or \`..\``);
  }
}

/**
 * True when `destination` would be inside the directory `source` (or be it):
 * a directory on its physical path has the source's identity. Comparing
 * identities rather than path strings also catches a destination reached
 * through a link to the source or a bind mount of it.
 */
export async function isInsideTree(destination: NativePath, source: FileIdentity): Promise<boolean> {
  let dir = await physicalPath(byteText(destination));
  for (;;) {
    const st = await stat(fromByteText(dir), { bigint: true }).catch(() => undefined);
    if (st && sameFile(st, source)) return true;
    if (dir === sep) return false;
    dir = dirname(dir);
  }
}

/**
 * `path` with its longest existing prefix resolved through links (the rest
 * does not exist, so holds none), so that walking up with `dirname` visits
 * its real ancestors, not those of a link's name. In and out: `byteText` form.
 */
async function physicalPath(path: string): Promise<string> {
  const missing: string[] = [];
  for (let existing = path; ; existing = dirname(existing)) {
    const real = await realpath(fromByteText(existing), { encoding: "buffer" }).catch(() => undefined);
    if (real !== undefined) return join(real.toString("latin1"), ...missing.reverse());
    if (existing === sep) return path;
    missing.push(basename(existing));
  }
}
