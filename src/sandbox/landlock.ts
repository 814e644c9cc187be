/**
 * Landlock, the fallback where bubblewrap cannot run (no user namespaces, as
 * on hosts that restrict them): the inner stage restricts itself to the
 * policy's roots, adds the seccomp filter and execs the command. Landlock
 * only grants, so it can express "read these trees, write those"; a policy
 * that masks something inside a readable tree (deny entries, read-only
 * carve-outs such as an existing `.git` in a writable root) cannot be
 * expressed and is refused — never run with less than it asked for.
 */
import { realpathSync } from "node:fs";
import type { FsView } from "./policy.ts";
import type { SeccompMode } from "./seccomp.ts";

/** What the stage is told: trees to read, trees to write, the seccomp mode. */
export type LandlockSpec = { read: string[]; write: string[]; seccomp: SeccompMode };

/**
 * The oldest Landlock ABI the fallback runs on: 6 (Linux 6.12) scopes signals
 * and abstract Unix sockets to the sandbox. Without it a sandboxed command
 * could signal every process of the executor's uid (the executor included)
 * and reach abstract sockets on the host, so an older kernel is refused.
 */
export const LANDLOCK_MIN_ABI = 6;

/** ABI 6 scopes (linux/landlock.h): abstract Unix sockets and signals stay inside the sandbox. */
export const LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET = 1n << 0n;
export const LANDLOCK_SCOPE_SIGNAL = 1n << 1n;

/** Also writable in every Landlock sandbox, as the reference's Landlock path allows. */
const ALWAYS_WRITABLE = ["/dev/null"];

/**
 * The spec for `view`, or the reason Landlock cannot enforce it. `secrets`
 * (the executor's own secret files) cannot be masked either: a spec whose
 * trees hold one is refused.
 */
export function landlockSpec(view: FsView | null, seccomp: SeccompMode, secrets: readonly string[] = []): LandlockSpec | string {
  const spec = grantedTrees(view, seccomp);
  if (typeof spec === "string") return spec;
  for (const secret of secrets) {
    const root = [...spec.read, ...spec.write].find((r) => holds(r, secret));
    if (root !== undefined) return `the ${spec.write.includes(root) ? "writable" : "readable"} root ${root} holds the executor's secret ${secret}, which Landlock cannot hide`;
  }
  return spec;
}

/** Is `path` at or below `root`, as given or with the root's symlinks resolved? */
function holds(root: string, path: string): boolean {
  const within = (r: string) => r === "/" || path === r || path.startsWith(`${r}/`);
  if (within(root)) return true;
  try {
    return within(realpathSync(root));
  } catch {
    return false;
  }
}

function grantedTrees(view: FsView | null, seccomp: SeccompMode): LandlockSpec | string {
  if (view === null) return { read: ["/"], write: ["/"], seccomp };
  const read = view.fullRead ? ["/"] : [];
  const write: string[] = [];
  // Stand-ins for missing protected names need a mount: not in Landlock's power, and not asked for explicitly.
  for (const rule of view.rules.filter((r) => !r.placeholder)) {
    const covered = (roots: string[]) => roots.some((r) => r === "/" || rule.path === r || rule.path.startsWith(`${r}/`));
    if (rule.access === "write") write.push(rule.path);
    else if (rule.access === "read") {
      if (covered(write)) return `read-only ${rule.path} inside a writable root cannot be expressed with Landlock`;
      if (!covered(read)) read.push(rule.path);
    } else if (covered(read) || covered(write)) {
      return `denied ${rule.path} inside a readable root cannot be expressed with Landlock`;
    }
  }
  return { read, write: [...write, ...ALWAYS_WRITABLE], seccomp };
}

// Landlock ABI (linux/landlock.h).
const FS = {
  EXECUTE: 1n << 0n,
  WRITE_FILE: 1n << 1n,
  READ_FILE: 1n << 2n,
  READ_DIR: 1n << 3n,
  REMOVE_DIR: 1n << 4n,
  REMOVE_FILE: 1n << 5n,
  MAKE_CHAR: 1n << 6n,
  MAKE_DIR: 1n << 7n,
  MAKE_REG: 1n << 8n,
  MAKE_SOCK: 1n << 9n,
  MAKE_FIFO: 1n << 10n,
  MAKE_BLOCK: 1n << 11n,
  MAKE_SYM: 1n << 12n,
  REFER: 1n << 13n,
  TRUNCATE: 1n << 14n,
};
/**
 * The rights restricted, by ABI version (1: bits 0–12, 2: +REFER, 3:
 * +TRUNCATE). IOCTL_DEV (5) is left alone: terminals need their ioctls.
 */
export function handledAccess(abi: number): bigint {
  let rights = (1n << 13n) - 1n;
  if (abi >= 2) rights |= FS.REFER;
  if (abi >= 3) rights |= FS.TRUNCATE;
  return rights;
}
const READ_RIGHTS = FS.EXECUTE | FS.READ_FILE | FS.READ_DIR;
/** Rights that may be granted on a file (not a directory) path. */
const FILE_RIGHTS = FS.EXECUTE | FS.WRITE_FILE | FS.READ_FILE | FS.TRUNCATE;

/** The rights a rule grants: reading, or everything handled; narrowed to what a file path may carry. */
export function ruleAccess(abi: number, write: boolean, isDirectory: boolean): bigint {
  const rights = write ? handledAccess(abi) : READ_RIGHTS;
  return isDirectory ? rights : rights & FILE_RIGHTS & handledAccess(abi);
}
