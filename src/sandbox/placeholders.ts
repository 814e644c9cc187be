/**
 * Stand-ins for paths a sandbox must hold but that do not exist yet (`.git`
 * in a fresh workspace, a denied or read-only path under a writable root): an
 * empty directory or file made on the host for as long as a sandbox needs it,
 * bound read-only (or masked) inside so the command cannot create it, and
 * removed afterwards if still empty — as the reference does. Made and removed
 * without following symlinks below the writable root (beneath.ts): one
 * planted on the way refuses the launch.
 *
 * Shared, also between executors on one host (two executors' root-write
 * sandboxes both hold `/.git`): each holding executor keeps the stand-in open
 * with a shared flock, and it is removed only by a holder that gets the lock
 * exclusively, i.e. the last one. Removing it under another executor's running
 * sandbox would detach that sandbox's mount over it, and its command could
 * then create the protected name on the host. Within one executor a count
 * shares one descriptor. A stand-in execbox made carries an xattr mark, so the
 * last holder removes it even if another executor made it; a path that
 * existed before (the user's own) has no mark and is left alone.
 */
import { closeSync, fchmodSync } from "node:fs";
import { cString, openLibc } from "../platform/libc.ts";
import { makeBeneath, openBeneath, removeBeneath, stillNames } from "./beneath.ts";
import type { FsView, PathRule } from "./policy.ts";

/** flock(2) operations. */
const LOCK_SH = 1;
const LOCK_EX = 2;
const LOCK_NB = 4;
/** The xattr on a stand-in execbox made (user namespace: settable by its owner on directories and regular files). */
const STAND_IN_MARK = cString("user.execbox.stand-in");
const MARK_VALUE = Uint8Array.of(0x31);
/**
 * Tries to make, open and share-lock a stand-in another executor may be
 * removing at that moment (it holds the lock exclusively only while it
 * unlinks): past this many, the launch is refused rather than run without it.
 */
export const STAND_IN_HOLD_ATTEMPTS = 8;

type Placeholder = NonNullable<PathRule["placeholder"]>;
type Holder = { count: number; made: boolean; fd: number };

/** Stand-ins this executor holds: how many sandboxes hold each, whether it made it, and its locked descriptor. */
const holders = new Map<string, Holder>();

/** Makes the view's missing paths exist as stand-ins; returns what undoes it. If one cannot be held, those held are let go and it throws. */
export function holdPlaceholders(view: FsView | null): () => void {
  const held: PathRule[] = [];
  let done = false;
  const release = () => {
    if (done) return;
    done = true;
    for (const { path, placeholder } of held) {
      const holder = holders.get(path);
      if (!holder || --holder.count > 0) continue;
      holders.delete(path);
      letGo(path, placeholder!, holder);
    }
  };
  try {
    for (const rule of view?.rules ?? []) {
      if (!rule.placeholder) continue;
      const holder = holders.get(rule.path) ?? take(rule.path, rule.placeholder);
      holder.count++;
      holders.set(rule.path, holder);
      held.push(rule);
    }
  } catch (e) {
    release();
    throw e;
  }
  return release;
}

/** Makes (or finds) the stand-in, opens it and takes a shared lock on the file that is there now. */
function take(path: string, { root, kind }: Placeholder): Holder {
  const libc = openLibc();
  for (let attempt = 0; attempt < STAND_IN_HOLD_ATTEMPTS; attempt++) {
    // Made in this attempt, not an earlier one: what is there now may be someone else's (its mode and marks are not ours to touch).
    const made = makeBeneath(root, path, kind);
    const fd = openBeneath(root, path, kind);
    if (fd === null) continue; // Removed by its last holder in between: make it again.
    if (made) mark(fd, kind); // No mark where xattrs are unsupported: then only the maker removes it.
    // Checked after locking: a remover unlinks while it holds the lock, so what is locked and still named is safe.
    if (libc.flock(fd, LOCK_SH | LOCK_NB) === 0 && stillNames(root, path, fd)) return { count: 0, made, fd };
    closeSync(fd);
  }
  throw new Error(`cannot hold the stand-in ${path}: another executor kept removing it`);
}

/** The last holder here: removes the stand-in if no other executor holds it and execbox made it; closes the descriptor. */
function letGo(path: string, { root, kind }: Placeholder, holder: Holder): void {
  const libc = openLibc();
  try {
    // Another executor's sandbox still holds it: the last of them removes it. Two letting go at once do not
    // both give up: Linux converts a lock by dropping the shared one first, so a failed conversion leaves this
    // descriptor unlocked and the other's conversion, after it, succeeds (flock(2), "converting a lock").
    if (libc.flock(holder.fd, LOCK_EX | LOCK_NB) !== 0) return;
    if ((holder.made || marked(holder.fd)) && stillNames(root, path, holder.fd)) removeBeneath(root, path, kind);
  } finally {
    closeSync(holder.fd);
  }
}

/**
 * Sets the stand-in mark. Setting a user xattr needs write permission on the
 * inode, which a read-only (0444) file denies its owner unless root: such a
 * file is made writable for the moment it is marked.
 */
function mark(fd: number, kind: Placeholder["kind"]): void {
  if (kind === "file") fchmodSync(fd, 0o644);
  openLibc().fsetxattr(fd, STAND_IN_MARK, MARK_VALUE, MARK_VALUE.length, 0);
  if (kind === "file") fchmodSync(fd, 0o444);
}

function marked(fd: number): boolean {
  const value = new Uint8Array(MARK_VALUE.length);
  return openLibc().fgetxattr(fd, STAND_IN_MARK, value, value.length) === MARK_VALUE.length && value[0] === MARK_VALUE[0];
}
