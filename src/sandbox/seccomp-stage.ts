/**
 * The inner sandbox stage, run by bwrap as this same executable:
 * `execbox --apply-seccomp-then-exec <mode> [--argv0 NAME] -- PROGRAM ARGS…`.
 * Sets no-new-privs, installs the seccomp filter for `mode`, then execs the
 * command in place (through libc, via bun:ffi) so the filter binds it and
 * everything it starts.
 */
import { SECCOMP_MODES, type SeccompMode, buildFilter } from "./seccomp.ts";

const PR_SET_NO_NEW_PRIVS = 38;
const SECCOMP_SET_MODE_FILTER = 1;
/** seccomp(2)'s number: the same table position is not shared across architectures. */
const SYS_SECCOMP: Record<string, number> = { x64: 317, arm64: 277 };

type Libc = {
  prctl(option: number, a: number, b: number, c: number, d: number): number;
  syscall(nr: number, a: number, b: number, prog: Uint8Array): number;
  execvp(file: Uint8Array, argv: BigUint64Array): number;
  errno(): number;
};

function openLibc(): Libc {
  const { dlopen, FFIType, read } = require("bun:ffi") as typeof import("bun:ffi");
  const lib = dlopen("libc.so.6", {
    prctl: { args: [FFIType.i32, FFIType.u64, FFIType.u64, FFIType.u64, FFIType.u64], returns: FFIType.i32 },
    syscall: { args: [FFIType.i64, FFIType.i64, FFIType.i64, FFIType.ptr], returns: FFIType.i64 },
    execvp: { args: [FFIType.ptr, FFIType.ptr], returns: FFIType.i32 },
    __errno_location: { args: [], returns: FFIType.ptr },
  });
  const s = lib.symbols;
  return {
    prctl: (o, a, b, c, d) => s.prctl(o, a, b, c, d),
    syscall: (nr, a, b, prog) => Number(s.syscall(nr, a, b, prog)),
    execvp: (file, argv) => s.execvp(file, argv),
    errno: () => read.i32(s.__errno_location()!, 0),
  };
}

/** No-new-privs and the filter for `mode` on this process; throws with errno on failure. */
export function installSeccomp(mode: SeccompMode, libc: Libc = openLibc()): void {
  if (libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) !== 0) throw new Error(`prctl(PR_SET_NO_NEW_PRIVS) failed: errno ${libc.errno()}`);
  const filter = buildFilter(mode);
  const { ptr } = require("bun:ffi") as typeof import("bun:ffi");
  // struct sock_fprog { unsigned short len; struct sock_filter *filter; }
  const fprog = new Uint8Array(16);
  const view = new DataView(fprog.buffer);
  view.setUint16(0, filter.byteLength / 8, true);
  view.setBigUint64(8, BigInt(ptr(filter)), true);
  const nr = SYS_SECCOMP[process.arch];
  if (nr === undefined) throw new Error(`no seccomp syscall number for ${process.arch}`);
  if (libc.syscall(nr, SECCOMP_SET_MODE_FILTER, 0, fprog) !== 0) throw new Error(`seccomp(SET_MODE_FILTER) failed: errno ${libc.errno()}`);
  // Keep the filter bytes alive until the kernel has copied them (it has, once the call returned).
  void filter.byteLength;
}

function cString(s: string): Uint8Array {
  return Buffer.from(`${s}\0`, "utf8");
}

export function runSeccompStage(args: string[]): number {
  const mode = args[0] as SeccompMode;
  let i = 1;
  let argv0: string | undefined;
  if (args[i] === "--argv0") {
    argv0 = args[i + 1];
    i += 2;
  }
  const command = args[i] === "--" ? args.slice(i + 1) : [];
  if (!SECCOMP_MODES.includes(mode) || command.length === 0) {
    process.stderr.write(`execbox sandbox: usage: --apply-seccomp-then-exec <${SECCOMP_MODES.join("|")}> [--argv0 NAME] -- PROGRAM [ARGS…]\n`);
    return 2;
  }
  const { ptr } = require("bun:ffi") as typeof import("bun:ffi");
  try {
    const libc = openLibc();
    installSeccomp(mode, libc);
    const strings = [argv0 ?? command[0]!, ...command.slice(1)].map(cString);
    const argvPtrs = new BigUint64Array(strings.length + 1);
    strings.forEach((s, k) => (argvPtrs[k] = BigInt(ptr(s))));
    libc.execvp(cString(command[0]!), argvPtrs);
    const errno = libc.errno();
    process.stderr.write(`execbox sandbox: cannot execute ${command[0]}: errno ${errno}\n`);
    return errno === 2 ? 127 : 126;
  } catch (e) {
    process.stderr.write(`execbox sandbox: ${(e as Error).message}\n`);
    return 126;
  }
}
