/**
 * Making and removing a stand-in (see placeholders.ts) under a writable root
 * without following any symlink below that root. The command, or whoever
 * else writes the workspace, may have planted one (`ws/a -> /etc`): a plain
 * mkdir/open of `ws/a/b` would then create `/etc/b` on the host. The parent
 * is opened with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS) from the root
 * (itself trusted, symlinks and all), and the stand-in made relative to that
 * descriptor with calls that never follow the last component — so renaming
 * things meanwhile cannot redirect it either. A symlink on the way is an
 * error: the caller refuses the launch.
 */
import { closeSync, fstatSync, lstatSync, openSync } from "node:fs";
import { basename, dirname, join, relative, sep } from "node:path";
import { type Libc, O, cString, openLibc } from "../platform/libc.ts";

/** openat2(2), the same number on x86-64 and arm64 (Linux 5.6). */
const SYS_OPENAT2 = 437;
const RESOLVE_NO_MAGICLINKS = 0x02;
const RESOLVE_NO_SYMLINKS = 0x04;
const RESOLVE_BENEATH = 0x08;
const AT_REMOVEDIR = 0x200;
const EEXIST = 17;
const ENOSYS = 38;
const ELOOP = 40;
const ENOTDIR = 20;

type Errno = Error & { errno: number };
const fail = (message: string, errno: number): Errno => Object.assign(new Error(message), { errno });

/** openat2 of `rel` under `dirfd`, never through a symlink nor out of `dirfd`; returns the descriptor. */
function openNoSymlinks(libc: Libc, dirfd: number, rel: string, flags: number, mode = 0): number {
  // struct open_how { __u64 flags; __u64 mode; __u64 resolve; }
  const how = new BigUint64Array([BigInt(flags | O.CLOEXEC), BigInt(mode), BigInt(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS)]);
  const fd = libc.syscall(SYS_OPENAT2, dirfd, libc.ptr(cString(rel)), libc.ptr(how), how.byteLength);
  if (fd < 0) throw fail(`openat2(${rel})`, libc.errno());
  return fd;
}

/** Runs `use` with the parent directory of `path` (strictly beneath `root`) opened without following a symlink. */
function withParent<T>(root: string, path: string, use: (libc: Libc, parent: number, name: string) => T): T {
  const rel = relative(root, path);
  if (rel === "" || rel.startsWith("..") || rel.startsWith(sep)) throw new Error(`${path} is not inside ${root}`);
  const libc = openLibc();
  const rootFd = openSync(root, O.PATH | O.DIRECTORY | O.CLOEXEC);
  try {
    const parentRel = dirname(rel);
    const parent = parentRel === "." ? rootFd : openNoSymlinks(libc, rootFd, parentRel, O.PATH | O.DIRECTORY);
    try {
      return use(libc, parent, basename(rel));
    } finally {
      if (parent !== rootFd) closeSync(parent);
    }
  } catch (e) {
    throw explain(e, root, path);
  } finally {
    closeSync(rootFd);
  }
}

/** The message a refusal carries: which component is a symlink, or the kernel's complaint. */
function explain(e: unknown, root: string, path: string): Error {
  const errno = (e as Partial<Errno>).errno;
  if (errno === ELOOP || errno === EEXIST) {
    const link = firstSymlink(root, path);
    if (link) return new Error(`${link} is a symlink inside the writable root ${root}`);
  }
  if (errno === ENOSYS) return new Error(`openat2 is not available (Linux 5.6 or newer is needed to make ${path} safely)`);
  if (errno === ENOTDIR) return new Error(`${path} is in the way: it, or a directory above it, is not a directory`);
  return errno === undefined ? (e as Error) : new Error(`cannot make ${path}: errno ${errno}`);
}

/** The first component below `root` (the root itself is trusted) down to `path` that is a symlink, or null. */
export function firstSymlink(root: string, path: string): string | null {
  let p = root;
  for (const part of relative(root, path).split(sep)) {
    p = join(p, part);
    try {
      if (lstatSync(p).isSymbolicLink()) return p;
    } catch {
      return null;
    }
  }
  return null;
}

/**
 * Makes `path` (under `root`) as an empty directory or read-only file.
 * True if made here; false if something that is not a symlink already
 * exists there (it is then masked as it is, and not removed afterwards).
 */
export function makeBeneath(root: string, path: string, kind: "dir" | "file"): boolean {
  return withParent(root, path, (libc, parent, name) => {
    try {
      if (kind === "file") closeSync(openNoSymlinks(libc, parent, name, O.WRONLY | O.CREAT | O.EXCL | O.NOFOLLOW, 0o444));
      else if (libc.mkdirat(parent, cString(name), 0o755) < 0) throw fail(`mkdirat(${name})`, libc.errno());
      return true;
    } catch (e) {
      if ((e as Errno).errno !== EEXIST) throw e;
      closeSync(openNoSymlinks(libc, parent, name, O.PATH)); // ELOOP if what exists is a symlink
      return false;
    }
  });
}

/** Removes the stand-in at `path` if it is still what was made (an empty directory, an empty regular file); never through a symlink. */
export function removeBeneath(root: string, path: string, kind: "dir" | "file"): void {
  try {
    withParent(root, path, (libc, parent, name) => {
      if (kind === "file") {
        const fd = openNoSymlinks(libc, parent, name, O.PATH);
        let st: ReturnType<typeof fstatSync>;
        try {
          st = fstatSync(fd);
        } finally {
          closeSync(fd);
        }
        if (st.isFile() && st.size === 0) libc.unlinkat(parent, cString(name), 0);
      } else libc.unlinkat(parent, cString(name), AT_REMOVEDIR); // fails if not empty: left alone
    });
  } catch {
    // Gone, replaced by a symlink, or not empty: left as it is.
  }
}

/**
 * Opens the stand-in at `path` for reading (a descriptor flock can hold),
 * never through a symlink; returns the descriptor, or null if nothing (or a
 * symlink) is there now. Non-blocking: what is there may be a FIFO someone
 * planted, whose plain open would wait for a writer with the executor.
 */
export function openBeneath(root: string, path: string, kind: "dir" | "file"): number | null {
  const flags = O.RDONLY | O.NOFOLLOW | O.NONBLOCK | O.NOCTTY | (kind === "dir" ? O.DIRECTORY : 0);
  try {
    return withParent(root, path, (libc, parent, name) => openNoSymlinks(libc, parent, name, flags));
  } catch (e) {
    // Something that cannot be held is there (a file where a directory goes, a symlink): say so, not "gone".
    if (lstatSync(path, { throwIfNoEntry: false }) !== undefined) throw e;
    return null;
  }
}

/** Whether `path` (under `root`, not through a symlink) is still the file `fd` is open on. */
export function stillNames(root: string, path: string, fd: number): boolean {
  let held: number | null;
  try {
    held = openBeneath(root, path, fstatSync(fd).isDirectory() ? "dir" : "file");
  } catch {
    return false; // Replaced by something else.
  }
  if (held === null) return false;
  try {
    const a = fstatSync(fd);
    const b = fstatSync(held);
    return a.ino === b.ino && a.dev === b.dev;
  } finally {
    closeSync(held);
  }
}
