/**
 * Which Linux backend enforces sandbox intent. `auto` prefers bubblewrap
 * (namespaces: a private view of the file system, PID and network) and falls
 * back to Landlock where bwrap cannot run — no usable bwrap, or user
 * namespaces refused, as some distributions do by default. Probed once.
 */
import { type Bwrap, findBwrap } from "./bwrap.ts";
import { LANDLOCK_MIN_ABI } from "./landlock.ts";

export const SANDBOX_BACKENDS = ["auto", "bwrap", "landlock"] as const;
export type SandboxBackend = (typeof SANDBOX_BACKENDS)[number];

/** `bwrap --unshare-user … /bin/true` must answer within this to count as working. */
const PROBE_TIMEOUT_MS = 5_000;

export type Backend = { kind: "bwrap"; bwrap: Bwrap } | { kind: "landlock"; abi: number } | { kind: "none"; why: string };

const usableBwrap = new Map<string, boolean>();
let abi: number | null = null;

/** Can this bwrap create a user namespace here? */
function namespacesWork(bwrap: Bwrap): boolean {
  let ok = usableBwrap.get(bwrap.path);
  if (ok === undefined) {
    const probe = Bun.spawnSync([bwrap.path, "--unshare-user", "--ro-bind", "/", "/", "--", "/bin/true"], { stdout: "ignore", stderr: "ignore", timeout: PROBE_TIMEOUT_MS });
    ok = probe.exitCode === 0;
    usableBwrap.set(bwrap.path, ok);
  }
  return ok;
}

/** The kernel's Landlock ABI (0: none), asked once. */
export function landlockAbiCached(): number {
  if (abi === null) {
    try {
      abi = (require("./seccomp-stage.ts") as typeof import("./seccomp-stage.ts")).landlockAbi();
    } catch {
      abi = 0;
    }
  }
  return abi;
}

export function chooseBackend(
  wanted: SandboxBackend,
  searchPath: string | undefined,
  find: (path: string | undefined) => Bwrap | null = findBwrap,
  landlockAbi: () => number = landlockAbiCached,
): Backend {
  if (wanted !== "landlock") {
    const bwrap = find(searchPath);
    if (bwrap && (wanted === "bwrap" || namespacesWork(bwrap))) return { kind: "bwrap", bwrap };
    if (wanted === "bwrap") return { kind: "none", why: "bubblewrap (bwrap with --perms) was not found; install it (apt-get install bubblewrap) and see `execbox doctor`" };
  }
  const landlock = landlockAbi();
  if (landlock >= LANDLOCK_MIN_ABI) return { kind: "landlock", abi: landlock };
  if (landlock > 0) return { kind: "none", why: tooOldLandlock(landlock) };
  return {
    kind: "none",
    why: "neither bubblewrap with working user namespaces nor Landlock is available; install bubblewrap (apt-get install bubblewrap) and see `execbox doctor`",
  };
}

/**
 * Can this host run a writable `/` with its carve-outs enforced
 * (`linuxRootWritePreservesDevices`, `linuxApprovedRootWritePreservesRestrictions`)?
 * Only bubblewrap can: Landlock cannot take a path back out of a writable
 * root, so there such profiles are refused and both flags stay false.
 */
export function enforcesRootWrite(wanted: SandboxBackend, searchPath: string | undefined, choose: typeof chooseBackend = chooseBackend): boolean {
  return process.platform === "linux" && choose(wanted, searchPath).kind === "bwrap";
}

/** Why an old Landlock is not used: it cannot keep signals and abstract sockets inside the sandbox. */
export function tooOldLandlock(abi: number): string {
  return `Landlock ABI ${abi} cannot keep a sandboxed command from signalling the executor's processes (scoping needs ABI ${LANDLOCK_MIN_ABI}, Linux 6.12); install bubblewrap (apt-get install bubblewrap) and see \`execbox doctor\``;
}
