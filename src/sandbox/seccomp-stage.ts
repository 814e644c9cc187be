/**
 * The inner sandbox stage, this same executable run as
 * `execbox --apply-seccomp-then-exec <mode> [--landlock SPEC] [--bridge DIR PORTS] [--argv0 NAME] [--keep-fd N] -- PROGRAM ARGS…`
 * (inside bwrap, or on its own with Landlock where bwrap cannot run).
 * Starts the managed network's inside bridge if asked, restricts itself —
 * Landlock rules and scopes if asked, no capabilities, no-new-privs, the seccomp
 * filter for `mode` — then execs the command in place through libc (bun:ffi),
 * so the restrictions bind it and everything it starts.
 */
import { closeSync, fstatSync, openSync } from "node:fs";
import { KEEP_FD_FLAG, NET_BRIDGE_FLAG } from "./internal-flags.ts";
import { LANDLOCK_MIN_ABI, LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET, LANDLOCK_SCOPE_SIGNAL, type LandlockSpec, handledAccess, ruleAccess } from "./landlock.ts";
import { type Libc, O, cString, openLibc } from "../platform/libc.ts";
import { startInsideBridge } from "./managed-network.ts";
import { selfCommand } from "./self-command.ts";
import { SECCOMP_MODES, type SeccompMode, buildFilter } from "./seccomp.ts";

const PR_SET_NO_NEW_PRIVS = 38;
const PR_CAPBSET_READ = 23;
const PR_CAPBSET_DROP = 24;
const PR_CAP_AMBIENT = 47;
const PR_CAP_AMBIENT_CLEAR_ALL = 4;
/** capset(2) by architecture, and the header version that takes two 32-bit sets (all 64 capabilities). */
const SYS_CAPSET: Record<string, number> = { x64: 126, arm64: 91 };
const LINUX_CAPABILITY_VERSION_3 = 0x20080522;
/** Capability numbers are below this (the kernel's bounding-set read fails past its last one). */
const MAX_CAPABILITIES = 64;
const SECCOMP_SET_MODE_FILTER = 1;
/** seccomp(2)'s number differs by architecture; the Landlock calls share the generic table. */
const SYS_SECCOMP: Record<string, number> = { x64: 317, arm64: 277 };
const SYS_LANDLOCK_CREATE_RULESET = 444;
const SYS_LANDLOCK_ADD_RULE = 445;
const SYS_LANDLOCK_RESTRICT_SELF = 446;
const LANDLOCK_CREATE_RULESET_VERSION = 1;
const LANDLOCK_RULE_PATH_BENEATH = 1;

function check(what: string, result: number, libc: Libc): number {
  if (result < 0) throw new Error(`${what} failed: errno ${libc.errno()}`);
  return result;
}

/** The Landlock ABI version this kernel offers, 0 without Landlock. */
export function landlockAbi(libc: Libc = openLibc()): number {
  return Math.max(0, libc.syscall(SYS_LANDLOCK_CREATE_RULESET, 0, 0, LANDLOCK_CREATE_RULESET_VERSION));
}

/** Restricts this process to `spec`'s trees (setting no-new-privs, which Landlock requires). */
export function applyLandlock(spec: LandlockSpec, libc: Libc): void {
  const abi = landlockAbi(libc);
  if (abi < LANDLOCK_MIN_ABI) throw new Error(`Landlock ABI ${abi} cannot scope signals (needs ${LANDLOCK_MIN_ABI})`);
  // struct landlock_ruleset_attr { __u64 handled_access_fs, handled_access_net, scoped; }: the network is
  // left to seccomp; signals and abstract Unix sockets cannot leave the sandbox.
  const attr = new BigUint64Array([handledAccess(abi), 0n, LANDLOCK_SCOPE_SIGNAL | LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET]);
  const ruleset = check("landlock_create_ruleset", libc.syscall(SYS_LANDLOCK_CREATE_RULESET, libc.ptr(attr), attr.byteLength, 0), libc);
  try {
    const rules: [string, boolean][] = [...spec.read.map((p) => [p, false] as [string, boolean]), ...spec.write.map((p) => [p, true] as [string, boolean])];
    for (const [path, write] of rules) {
      let fd: number;
      try {
        fd = openSync(path, O.PATH | O.CLOEXEC);
      } catch {
        continue; // a root that does not exist grants nothing
      }
      try {
        // struct landlock_path_beneath_attr { __u64 allowed_access; __s32 parent_fd; } __attribute__((packed))
        const rule = new Uint8Array(12);
        const view = new DataView(rule.buffer);
        view.setBigUint64(0, ruleAccess(abi, write, fstatSync(fd).isDirectory()), true);
        view.setInt32(8, fd, true);
        check(`landlock_add_rule(${path})`, libc.syscall(SYS_LANDLOCK_ADD_RULE, ruleset, LANDLOCK_RULE_PATH_BENEATH, libc.ptr(rule)), libc);
      } finally {
        closeSync(fd);
      }
    }
    check("prctl(PR_SET_NO_NEW_PRIVS)", libc.prctl(PR_SET_NO_NEW_PRIVS, 1), libc);
    check("landlock_restrict_self", libc.syscall(SYS_LANDLOCK_RESTRICT_SELF, ruleset, 0, 0), libc);
  } finally {
    closeSync(ruleset);
  }
}

/**
 * Leaves this process no capabilities, for good: an executor running as root
 * would otherwise hand them all to a Landlock-sandboxed command (bwrap drops
 * them itself; there this finds nothing left). The bounding set goes first
 * (that needs CAP_SETPCAP, still held), then the ambient set, then capset(2)
 * clears the rest, so after execve CapPrm, CapEff and CapBnd are all 0.
 */
export function dropCapabilities(libc: Libc): void {
  for (let cap = 0; cap < MAX_CAPABILITIES; cap++) {
    const held = libc.prctl(PR_CAPBSET_READ, cap);
    if (held < 0) break; // past the kernel's last capability
    if (held === 1) check(`prctl(PR_CAPBSET_DROP, ${cap})`, libc.prctl(PR_CAPBSET_DROP, cap), libc);
  }
  check("prctl(PR_CAP_AMBIENT_CLEAR_ALL)", libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL), libc);
  const nr = SYS_CAPSET[process.arch];
  if (nr === undefined) throw new Error(`no capset syscall number for ${process.arch}`);
  // struct __user_cap_header_struct { __u32 version; int pid; } and two zeroed struct __user_cap_data_struct.
  const header = new Uint32Array([LINUX_CAPABILITY_VERSION_3, 0]);
  const data = new Uint32Array(6);
  check("capset", libc.syscall(nr, libc.ptr(header), libc.ptr(data), 0), libc);
}

/** No-new-privs and the filter for `mode` on this process; throws with errno on failure. */
export function installSeccomp(mode: SeccompMode, libc: Libc = openLibc()): void {
  check("prctl(PR_SET_NO_NEW_PRIVS)", libc.prctl(PR_SET_NO_NEW_PRIVS, 1), libc);
  const filter = buildFilter(mode);
  // struct sock_fprog { unsigned short len; struct sock_filter *filter; }
  const fprog = new Uint8Array(16);
  const view = new DataView(fprog.buffer);
  view.setUint16(0, filter.byteLength / 8, true);
  view.setBigUint64(8, BigInt(libc.ptr(filter)), true);
  const nr = SYS_SECCOMP[process.arch];
  if (nr === undefined) throw new Error(`no seccomp syscall number for ${process.arch}`);
  check("seccomp(SET_MODE_FILTER)", libc.syscall(nr, SECCOMP_SET_MODE_FILTER, 0, libc.ptr(fprog)), libc);
}

/** fcntl(2) by architecture; F_SETFD with 0 clears FD_CLOEXEC. */
const SYS_FCNTL: Record<string, number> = { x64: 72, arm64: 25 };
const F_SETFD = 2;

/**
 * Bun marks every descriptor it inherits close-on-exec at start-up, so one
 * the command must get through this stage (the shell snapshot's restore
 * script, named by `--keep-fd`; never any other) is cleared again. If it is
 * not open, the command reports that itself (`failed to restore shell snapshot`).
 */
function keepOpenAcrossExec(fd: number, libc: Libc): void {
  if (Number.isInteger(fd) && fd > 2) libc.syscall(SYS_FCNTL[process.arch] ?? -1, fd, F_SETFD, 0);
}

type StageArgs = { mode: SeccompMode; landlock?: LandlockSpec; bridge?: { dir: string; ports: string[] }; argv0?: string; keepFd?: number; command: string[] };

function parseStageArgs(args: string[]): StageArgs | null {
  const mode = args[0] as SeccompMode;
  const out: StageArgs = { mode, command: [] };
  let i = 1;
  for (; i < args.length && args[i] !== "--"; i += 2) {
    if (args[i] === "--argv0") out.argv0 = args[i + 1];
    else if (args[i] === KEEP_FD_FLAG) out.keepFd = Number(args[i + 1]);
    else if (args[i] === "--landlock") out.landlock = JSON.parse(args[i + 1] ?? "null") as LandlockSpec;
    else if (args[i] === "--bridge") {
      out.bridge = { dir: args[i + 1] ?? "", ports: (args[i + 2] ?? "").split(",").filter(Boolean) };
      i++;
    } else return null;
  }
  out.command = args.slice(i + 1);
  return SECCOMP_MODES.includes(mode) && args[i] === "--" && out.command.length > 0 ? out : null;
}

export async function runSeccompStage(args: string[]): Promise<number> {
  let parsed: StageArgs | null;
  try {
    parsed = parseStageArgs(args);
  } catch {
    parsed = null;
  }
  if (!parsed) {
    process.stderr.write(`execbox sandbox: usage: --apply-seccomp-then-exec <${SECCOMP_MODES.join("|")}> [--landlock SPEC] [--bridge DIR PORTS] [--argv0 NAME] [--keep-fd N] -- PROGRAM [ARGS…]\n`);
    return 2;
  }
  try {
    if (parsed.bridge) await startInsideBridge(selfCommand().argv, NET_BRIDGE_FLAG, parsed.bridge.dir, parsed.bridge.ports);
    const libc = openLibc();
    if (parsed.keepFd !== undefined) keepOpenAcrossExec(parsed.keepFd, libc);
    if (parsed.landlock) applyLandlock(parsed.landlock, libc);
    dropCapabilities(libc);
    installSeccomp(parsed.mode, libc);
    const { command } = parsed;
    const strings = [parsed.argv0 ?? command[0]!, ...command.slice(1)].map(cString);
    const argvPtrs = new BigUint64Array(strings.length + 1);
    strings.forEach((s, k) => (argvPtrs[k] = BigInt(libc.ptr(s))));
    libc.execvp(cString(command[0]!), argvPtrs);
    const errno = libc.errno();
    process.stderr.write(`execbox sandbox: cannot execute ${command[0]}: errno ${errno}\n`);
    return errno === 2 ? 127 : 126;
  } catch (e) {
    process.stderr.write(`execbox sandbox: ${(e as Error).message}\n`);
    return 126;
  }
}
