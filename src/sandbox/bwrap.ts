/**
 * Linux enforcement with bubblewrap: finding a usable `bwrap` and turning a
 * `SandboxPlan` into its argv. The view is built shallow → deep so a deeper
 * rule (a read-only `.git` inside a writable workspace, a denied directory)
 * is mounted over the shallower one that contains it.
 */
import { chmodSync, existsSync, statSync, writeFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import { privateDir } from "./private-dir.ts";
import type { FsView, SandboxPlan } from "./policy.ts";

/** Flags execbox relies on; a bwrap without them (older than 0.5) is not used. */
export const REQUIRED_BWRAP_FLAGS = ["--perms", "--remount-ro", "--die-with-parent", "--cap-drop", "--unshare-user"];
/** Where bwrap is looked for besides the executor's PATH. */
const STANDARD_LOCATIONS = ["/usr/bin/bwrap", "/bin/bwrap", "/usr/local/bin/bwrap"];
/** `bwrap --help` must answer within this (it is a local binary; anything slower is broken). */
const PROBE_TIMEOUT_MS = 2_000;

/** `proc`: a fresh /proc can be mounted in its PID namespace (some containers forbid it; then none is). */
export type Bwrap = { path: string; version: string; argv0: boolean; proc: boolean };

const probed = new Map<string, Bwrap | null>();

/** The first usable bwrap on `searchPath` or in the standard places, or null. */
export function findBwrap(searchPath: string | undefined): Bwrap | null {
  const dirs = (searchPath ?? "").split(delimiter).filter((d) => d.startsWith("/"));
  for (const candidate of [...dirs.map((d) => join(d, "bwrap")), ...STANDARD_LOCATIONS]) {
    if (!probed.has(candidate)) probed.set(candidate, probe(candidate));
    const found = probed.get(candidate);
    if (found) return found;
  }
  return null;
}

function probe(path: string): Bwrap | null {
  try {
    if (!statSync(path).isFile()) return null;
    const help = Bun.spawnSync([path, "--help"], { stdout: "pipe", stderr: "pipe", timeout: PROBE_TIMEOUT_MS });
    const text = help.stdout.toString() + help.stderr.toString();
    if (!REQUIRED_BWRAP_FLAGS.every((f) => text.includes(f))) return null;
    const version = Bun.spawnSync([path, "--version"], { stdout: "pipe", stderr: "pipe", timeout: PROBE_TIMEOUT_MS });
    return { path, version: version.stdout.toString().trim().replace(/^bubblewrap\s*/, ""), argv0: text.includes("--argv0"), proc: procMountWorks(path) };
  } catch {
    return null;
  }
}

/** `seccompFd`: a descriptor the child gets holding a compiled filter, which bwrap installs right before exec. */
/**
 * The reference's /proc preflight, once per bwrap: a minimal sandbox that only
 * mounts /proc. Where the kernel refuses it (nested containers), sandboxes run
 * without a /proc rather than not at all.
 */
function procMountWorks(path: string): boolean {
  const probe = Bun.spawnSync(
    [path, "--ro-bind", "/", "/", "--unshare-user", "--unshare-pid", "--proc", "/proc", "--", "/bin/true"],
    { stdout: "ignore", stderr: "pipe", timeout: PROBE_TIMEOUT_MS },
  );
  if (probe.exitCode === 0) return true;
  const err = probe.stderr.toString();
  const procRefused = err.includes("Can't mount proc") && /Invalid argument|Operation not permitted|Permission denied/.test(err);
  return !procRefused;
}

/**
 * `bridge`: a managed-network bridge directory (inside the private dir) the sandbox sees, read-only.
 * `secrets`: the executor's secret files, masked wherever the view shows them.
 */
export type BwrapLaunch = {
  cwd: string;
  tty: boolean;
  seccompFd?: number;
  argv0?: string | null;
  proc?: boolean;
  bridge?: string;
  secrets?: readonly string[];
};

/** bwrap's arguments up to and including `--`; the program and its args follow. */
export function bwrapArgs(plan: Extract<SandboxPlan, { kind: "enforce" }>, launch: BwrapLaunch): string[] {
  const args = ["--die-with-parent"];
  // A new session keeps a sandboxed command from injecting input into the caller's terminal (TIOCSTI).
  if (!launch.tty) args.push("--new-session");
  args.push(...viewArgs(plan.view, launch.proc ?? true), ...privateDirMask(plan.view, launch.bridge), ...secretMasks(plan.view, launch.secrets ?? []));
  args.push("--unshare-user", "--unshare-pid", "--unshare-ipc");
  if (plan.network === "restricted") args.push("--unshare-net");
  args.push("--cap-drop", "ALL", "--chdir", launch.cwd);
  if (launch.seccompFd !== undefined) args.push("--seccomp", String(launch.seccompFd));
  if (launch.argv0) args.push("--argv0", launch.argv0);
  args.push("--");
  return args;
}

/**
 * A writable `/` (the whole disk, or `/` minus carve-outs) is bound
 * read-write, then gets a fresh /dev as every view does plus the host's
 * /dev/shm bound back (`--bind-try`: where the host has one), as the
 * reference's wrapper does: POSIX shared memory keeps working, and device
 * nodes are bwrap's safe set rather than the host's raw disks.
 */
const ROOT_WRITE_MOUNTS = ["--bind", "/", "/", "--dev", "/dev", "--bind-try", "/dev/shm", "/dev/shm"];

function viewArgs(view: FsView | null, proc: boolean): string[] {
  const procMount = proc ? ["--proc", "/proc"] : [];
  // No file-system view: the whole disk as it is, only the namespaces (network) change.
  if (view === null) return [...ROOT_WRITE_MOUNTS, ...procMount];
  const rootWrite = view.rules.some((r) => r.path === "/" && r.access === "write");
  const args = rootWrite ? [...ROOT_WRITE_MOUNTS] : view.fullRead ? ["--ro-bind", "/", "/", "--dev", "/dev"] : ["--tmpfs", "/", "--dev", "/dev"];
  args.push(...procMount);
  for (const rule of view.rules) {
    const kind = rule.path === "/" ? null : existingKind(rule.path);
    if (kind === null) continue; // `/` is mounted above; a missing path stays missing
    if (rule.placeholder?.kind === "dir") args.push(...sealedEmptyDir(rule.path));
    else if (rule.access === "write") args.push("--bind", rule.path, rule.path);
    else if (rule.access === "read") args.push("--ro-bind", rule.path, rule.path);
    else args.push(...maskArgs(rule.path, kind));
  }
  return args;
}

/** A missing protected name: an empty read-only tmpfs (mode 555) over its stand-in, as the reference mounts it. */
function sealedEmptyDir(path: string): string[] {
  return ["--perms", "555", "--tmpfs", path, "--remount-ro", path];
}

/**
 * execbox's private dir (filters, the denied file, bridge sockets) masked by
 * an empty read-only tmpfs wherever the view shows it, last so no rule
 * re-exposes it: through a writable root such as /tmp a command could
 * otherwise replace what later sandboxes are built from, or swap a bridge
 * socket for another host socket. bwrap reads bind sources from the host
 * side, so binds from the private dir still work; the bridge is bound back
 * read-only inside the tmpfs before it is sealed.
 */
function privateDirMask(view: FsView | null, bridge: string | undefined): string[] {
  const dir = privateDir();
  if (!bridge && !shows(view, dir)) return [];
  return ["--tmpfs", dir, ...(bridge ? ["--ro-bind", bridge, bridge] : []), "--remount-ro", dir];
}

/** The executor's secrets (its auth token files) masked like denied paths, last, wherever the view shows them. */
function secretMasks(view: FsView | null, secrets: readonly string[]): string[] {
  return secrets.filter((p) => shows(view, p)).flatMap((p) => maskArgs(p, existingKind(p)));
}

/** Could `path` be seen in the sandbox: the whole disk, or a rule at or above it? */
function shows(view: FsView | null, path: string): boolean {
  if (view === null || view.fullRead) return true;
  return view.rules.some((r) => r.path === "/" || path === r.path || path.startsWith(`${r.path}/`));
}

/** A denied path: an empty unreadable tmpfs for a directory, the unreadable empty file over a file. */
function maskArgs(path: string, kind: "dir" | "file" | null): string[] {
  if (kind === null) return []; // nothing to mount; a missing path stays missing
  if (kind === "dir") return ["--perms", "000", "--tmpfs", path, "--remount-ro", path];
  return ["--ro-bind", deniedFile(), path];
}

function existingKind(path: string): "dir" | "file" | null {
  try {
    return statSync(path).isDirectory() ? "dir" : "file";
  } catch {
    return null;
  }
}

/** An empty file nobody may read, bound over denied files (with all capabilities dropped, not even root). */
function deniedFile(): string {
  const path = join(privateDir(), "denied");
  if (!existsSync(path)) writeFileSync(path, "");
  chmodSync(path, 0o000);
  return path;
}
