/**
 * The few libc calls execbox makes through `bun:ffi` (Linux, glibc):
 * prctl, raw syscalls (Landlock, seccomp, capset, openat2), the *at calls
 * that never follow a name's last component, execvp, pipe2, the descriptor
 * passing calls (socketpair, sendmsg, recvmsg, close), flock and the
 * f*xattr calls (stand-ins shared between executors), and errno. The one
 * place that loads libc.
 */
export type Libc = {
  prctl(option: number, a: number): number;
  /** Unused arguments are 0: the kernel reads all it expects. */
  syscall(nr: number, a: number | bigint, b: number | bigint, c: number | bigint, d?: number | bigint): number;
  mkdirat(dirfd: number, path: Uint8Array, mode: number): number;
  unlinkat(dirfd: number, path: Uint8Array, flags: number): number;
  execvp(file: Uint8Array, argv: BigUint64Array): number;
  /** pipe2(2): fills `fds` with [read end, write end]. */
  pipe2(fds: Int32Array, flags: number): number;
  socketpair(domain: number, type: number, protocol: number, fds: Int32Array): number;
  /** `msg`: a struct msghdr (fd-passing.ts builds it). */
  sendmsg(fd: number, msg: Uint8Array, flags: number): number;
  recvmsg(fd: number, msg: Uint8Array, flags: number): number;
  close(fd: number): number;
  /** flock(2) on a descriptor open for reading (not O_PATH). */
  flock(fd: number, operation: number): number;
  fsetxattr(fd: number, name: Uint8Array, value: Uint8Array, size: number, flags: number): number;
  /** Returns the value's size, or -1 (ENODATA when absent). */
  fgetxattr(fd: number, name: Uint8Array, value: Uint8Array, size: number): number;
  errno(): number;
  ptr(buf: Uint8Array | Uint32Array | BigUint64Array): number;
};

/** open(2) flags (asm-generic: the same on x86-64 and arm64). */
export const O = {
  RDONLY: 0o0,
  WRONLY: 0o1,
  CREAT: 0o100,
  EXCL: 0o200,
  NOCTTY: 0o400,
  NONBLOCK: 0o4000,
  DIRECTORY: 0o200000,
  NOFOLLOW: 0o400000,
  CLOEXEC: 0o2000000,
  PATH: 0o10000000,
} as const;

let loaded: Libc | null = null;

export function openLibc(): Libc {
  if (loaded) return loaded;
  const { dlopen, FFIType, read, ptr } = require("bun:ffi") as typeof import("bun:ffi");
  const lib = dlopen("libc.so.6", {
    prctl: { args: [FFIType.i32, FFIType.u64, FFIType.u64, FFIType.u64, FFIType.u64], returns: FFIType.i32 },
    syscall: { args: [FFIType.i64, FFIType.i64, FFIType.i64, FFIType.i64, FFIType.i64], returns: FFIType.i64 },
    mkdirat: { args: [FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
    unlinkat: { args: [FFIType.i32, FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
    execvp: { args: [FFIType.ptr, FFIType.ptr], returns: FFIType.i32 },
    pipe2: { args: [FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
    socketpair: { args: [FFIType.i32, FFIType.i32, FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
    sendmsg: { args: [FFIType.i32, FFIType.ptr, FFIType.i32], returns: FFIType.i64 },
    recvmsg: { args: [FFIType.i32, FFIType.ptr, FFIType.i32], returns: FFIType.i64 },
    close: { args: [FFIType.i32], returns: FFIType.i32 },
    flock: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
    fsetxattr: { args: [FFIType.i32, FFIType.ptr, FFIType.ptr, FFIType.u64, FFIType.i32], returns: FFIType.i32 },
    fgetxattr: { args: [FFIType.i32, FFIType.ptr, FFIType.ptr, FFIType.u64], returns: FFIType.i64 },
    __errno_location: { args: [], returns: FFIType.ptr },
  });
  const s = lib.symbols;
  loaded = {
    prctl: (o, a) => s.prctl(o, a, 0, 0, 0),
    syscall: (nr, a, b, c, d = 0) => Number(s.syscall(nr, a, b, c, d)),
    mkdirat: (dirfd, path, mode) => s.mkdirat(dirfd, path, mode),
    unlinkat: (dirfd, path, flags) => s.unlinkat(dirfd, path, flags),
    execvp: (file, argv) => s.execvp(file, argv),
    pipe2: (fds, flags) => s.pipe2(fds, flags),
    socketpair: (domain, type, protocol, fds) => s.socketpair(domain, type, protocol, fds),
    sendmsg: (fd, msg, flags) => Number(s.sendmsg(fd, msg, flags)),
    recvmsg: (fd, msg, flags) => Number(s.recvmsg(fd, msg, flags)),
    close: (fd) => s.close(fd),
    flock: (fd, operation) => s.flock(fd, operation),
    fsetxattr: (fd, name, value, size, flags) => s.fsetxattr(fd, name, value, size, flags),
    fgetxattr: (fd, name, value, size) => Number(s.fgetxattr(fd, name, value, size)),
    errno: () => read.i32(s.__errno_location()!, 0),
    ptr: (buf) => ptr(buf),
  };
  return loaded;
}

/** A NUL-terminated copy of `s` for a `const char *`. */
export const cString = (s: string): Uint8Array => Buffer.from(`${s}\0`, "utf8");
