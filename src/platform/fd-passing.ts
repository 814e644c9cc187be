/**
 * Passing one open descriptor between processes over a Unix socket pair
 * (SCM_RIGHTS), which Bun has no API for: the sandboxed fs helper opens a
 * file inside its sandbox and hands the descriptor to the executor, so the
 * executor streams exactly the file the sandbox let the helper open — it
 * never resolves the path itself. Linux, LP64 (x86-64, arm64) struct layouts.
 */
import { openLibc } from "./libc.ts";

const AF_UNIX = 1;
const SOCK_STREAM = 1;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SCM_RIGHTS = 1;
const MSG_DONTWAIT = 0x40;
const MSG_CTRUNC = 0x8;
const MSG_CMSG_CLOEXEC = 0x40000000;
/** struct msghdr: name, namelen(+pad), iov, iovlen, control, controllen, flags(+pad). */
const MSGHDR_BYTES = 56;
/** CMSG_SPACE(sizeof(int) * MAX_FDS): room to see (and close) a few descriptors too many. */
const MAX_FDS = 4;
const CMSG_HEADER = 16;
const CONTROL_BYTES = CMSG_HEADER + 8 * Math.ceil((4 * MAX_FDS) / 8);

/** A connected stream pair, close-on-exec: [executor's end, helper's end]. */
export function socketPair(): [number, number] {
  const fds = new Int32Array(2);
  const libc = openLibc();
  if (libc.socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) !== 0) throw new Error(`socketpair failed: errno ${libc.errno()}`);
  return [fds[0]!, fds[1]!];
}

export function closeFd(fd: number): void {
  openLibc().close(fd);
}

/** Builds a msghdr over one 1-byte iovec and a control buffer; the buffers must outlive the call. */
function message(data: Uint8Array, control: Uint8Array): { msg: Uint8Array; keep: unknown[] } {
  const libc = openLibc();
  const iov = new Uint8Array(16);
  const iv = new DataView(iov.buffer);
  iv.setBigUint64(0, BigInt(libc.ptr(data)), true);
  iv.setBigUint64(8, BigInt(data.length), true);
  const msg = new Uint8Array(MSGHDR_BYTES);
  const mv = new DataView(msg.buffer);
  mv.setBigUint64(16, BigInt(libc.ptr(iov)), true);
  mv.setBigUint64(24, 1n, true);
  mv.setBigUint64(32, BigInt(libc.ptr(control)), true);
  mv.setBigUint64(40, BigInt(control.length), true);
  return { msg, keep: [iov, data, control] };
}

/** Sends `fd` over `socket` with one byte of data (the helper's side). */
export function sendFd(socket: number, fd: number): void {
  const control = new Uint8Array(CMSG_HEADER + 8);
  const cv = new DataView(control.buffer);
  cv.setBigUint64(0, BigInt(CMSG_HEADER + 4), true);
  cv.setInt32(8, SOL_SOCKET, true);
  cv.setInt32(12, SCM_RIGHTS, true);
  cv.setInt32(16, fd, true);
  const { msg, keep } = message(new Uint8Array([1]), control);
  const libc = openLibc();
  const sent = libc.sendmsg(socket, msg, 0);
  void keep;
  if (sent !== 1) throw new Error(`sendmsg failed: errno ${libc.errno()}`);
}

/**
 * Takes the one descriptor the helper sent, without waiting (call it once the
 * helper has exited). Anything but exactly one descriptor is refused, and
 * every descriptor that did arrive is closed then.
 */
export function receiveFd(socket: number): number {
  const control = new Uint8Array(CONTROL_BYTES);
  const { msg, keep } = message(new Uint8Array(1), control);
  const libc = openLibc();
  const got = libc.recvmsg(socket, msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
  void keep;
  if (got < 0) throw new Error(`recvmsg failed: errno ${libc.errno()}`);
  const fds = descriptors(control, new DataView(msg.buffer).getBigUint64(40, true));
  const truncated = (new DataView(msg.buffer).getInt32(48, true) & MSG_CTRUNC) !== 0;
  if (fds.length === 1 && !truncated) return fds[0]!;
  for (const fd of fds) libc.close(fd);
  throw new Error(`expected one descriptor from the fs helper, got ${fds.length}${truncated ? " (truncated)" : ""}`);
}

/** The SCM_RIGHTS descriptors in the first control message of `controlLen` bytes. */
function descriptors(control: Uint8Array, controlLen: bigint): number[] {
  if (controlLen < BigInt(CMSG_HEADER)) return [];
  const cv = new DataView(control.buffer);
  const len = Number(cv.getBigUint64(0, true));
  if (cv.getInt32(8, true) !== SOL_SOCKET || cv.getInt32(12, true) !== SCM_RIGHTS || len > control.length) return [];
  const fds: number[] = [];
  for (let at = CMSG_HEADER; at + 4 <= len; at += 4) fds.push(cv.getInt32(at, true));
  return fds;
}
