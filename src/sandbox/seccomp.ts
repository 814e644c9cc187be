/**
 * The seccomp filters of the inner sandbox stage, as classic BPF: built here
 * (pure, testable), installed by `seccomp-stage.ts`. Matched calls fail with
 * EPERM; everything else is allowed. Same rules as the reference:
 *
 * - `network`: no sockets but AF_UNIX stream or seqpacket ones
 *   (`socket`/`socketpair`), and no connect/accept/bind/listen at all (not
 *   even to a Unix socket such as a container daemon's); `ptrace`,
 *   `process_vm_*` and `io_uring_*` denied. No AF_UNIX datagram socket
 *   (SOCK_DGRAM, or SOCK_RAW which the kernel turns into one), not even a
 *   socketpair: a datagram socket sends to any path without connect
 *   (`sendto`, or `sendmsg` whose address seccomp cannot read), e.g. to a
 *   host's /dev/log. Connection sockets refuse an address on send.
 *   Narrower than the reference on purpose: Bun gives a child socketpair
 *   stdio, so calls that only act on a socket the process already holds
 *   (send/recv, shutdown, get/setsockopt, get*name) stay allowed — with no
 *   way to open or connect a network socket they reach nothing new.
 * - `vsock`: the network is open but AF_VSOCK sockets (a way out of a VM) and
 *   `io_uring_*` (which bypasses these checks) are denied.
 * - `proxy` (managed network): IP sockets work — inside a network namespace
 *   whose only destinations are the bridged ports — but no standalone
 *   AF_UNIX socket (the bridge's sockets are bound in), no AF_VSOCK,
 *   `socketpair` only for AF_UNIX stream/seqpacket (no datagrams, as above),
 *   and the `ptrace`/`process_vm_*`/`io_uring_*` denials.
 *
 * A foreign architecture (x32 syscalls, a 32-bit ABI) is killed: its syscall
 * numbers mean other things and would slip past the rules.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { privateDir } from "./private-dir.ts";

export type SeccompMode = "network" | "vsock" | "proxy";
export const SECCOMP_MODES: readonly SeccompMode[] = ["network", "vsock", "proxy"];

type Arch = { audit: number; nr: Record<string, number> };

/** Syscall numbers (asm/unistd.h) for the architectures Bun ships on Linux. */
const ARCHES: Record<string, Arch> = {
  x64: {
    audit: 0xc000003e,
    nr: {
      socket: 41, connect: 42, accept: 43, bind: 49, listen: 50, socketpair: 53, ptrace: 101, accept4: 288,
      process_vm_readv: 310, process_vm_writev: 311, io_uring_setup: 425, io_uring_enter: 426, io_uring_register: 427,
    },
  },
  arm64: {
    audit: 0xc00000b7,
    nr: {
      socket: 198, socketpair: 199, bind: 200, listen: 201, accept: 202, connect: 203, ptrace: 117, accept4: 242,
      process_vm_readv: 270, process_vm_writev: 271, io_uring_setup: 425, io_uring_enter: 426, io_uring_register: 427,
    },
  },
};

const DENIED: Record<SeccompMode, string[]> = {
  network: ["connect", "accept", "accept4", "bind", "listen", "ptrace", "process_vm_readv", "process_vm_writev", "io_uring_setup", "io_uring_enter", "io_uring_register"],
  vsock: ["io_uring_setup", "io_uring_enter", "io_uring_register"],
  proxy: ["ptrace", "process_vm_readv", "process_vm_writev", "io_uring_setup", "io_uring_enter", "io_uring_register"],
};

const AF_UNIX = 1;
const SOCK_STREAM = 1;
const SOCK_SEQPACKET = 5;
/** The socket type without SOCK_NONBLOCK/SOCK_CLOEXEC (the kernel's SOCK_TYPE_MASK). */
const SOCK_TYPE_MASK = 0xf;
const AF_VSOCK = 40;
const EPERM = 1;
/** x32 syscalls on x86-64 carry this bit. */
const X32_SYSCALL_BIT = 0x40000000;

const RET_ALLOW = 0x7fff0000;
const RET_ERRNO = 0x00050000;
const RET_KILL_PROCESS = 0x80000000;
// BPF opcodes (linux/filter.h).
const LD_W_ABS = 0x20;
const JEQ_K = 0x15;
const JGE_K = 0x35;
const ALU_AND_K = 0x54;
const RET_K = 0x06;
// struct seccomp_data offsets: nr, arch, then args[0], args[1] (their low 32 bits, little-endian).
const OFF_NR = 0;
const OFF_ARCH = 4;
const OFF_ARG0 = 16;
const OFF_ARG1 = 24;

type Insn = { code: number; jt: number; jf: number; k: number };
const stmt = (code: number, k: number): Insn => ({ code, jt: 0, jf: 0, k });
const jump = (code: number, k: number, jt: number, jf: number): Insn => ({ code, jt, jf, k });

/** The filter for `mode` on `arch` (`process.arch` names), as `struct sock_filter` bytes. */
export function buildFilter(mode: SeccompMode, arch: string = process.arch): Uint8Array {
  const a = ARCHES[arch];
  if (!a) throw new Error(`no seccomp filter for architecture ${arch}`);
  const deny = stmt(RET_K, RET_ERRNO | EPERM);
  const prog: Insn[] = [stmt(LD_W_ABS, OFF_ARCH), jump(JEQ_K, a.audit, 1, 0), stmt(RET_K, RET_KILL_PROCESS), stmt(LD_W_ABS, OFF_NR)];
  if (arch === "x64") prog.push(jump(JGE_K, X32_SYSCALL_BIT, 0, 1), stmt(RET_K, RET_KILL_PROCESS));
  for (const name of DENIED[mode]) prog.push(jump(JEQ_K, a.nr[name]!, 0, 1), deny);
  // socket(domain, type, …) / socketpair(domain, type, …): decided on the domain, and for AF_UNIX on the type.
  const allow = stmt(RET_K, RET_ALLOW);
  const onlyUnixStream = () => [
    jump(JEQ_K, AF_UNIX, 0, 4),
    stmt(LD_W_ABS, OFF_ARG1),
    stmt(ALU_AND_K, SOCK_TYPE_MASK),
    jump(JEQ_K, SOCK_STREAM, 2, 0),
    jump(JEQ_K, SOCK_SEQPACKET, 1, 0),
    deny,
    allow,
  ];
  const notVsock = () => [jump(JEQ_K, AF_VSOCK, 0, 1), deny, allow];
  const neitherUnixNorVsock = () => [jump(JEQ_K, AF_UNIX, 1, 0), jump(JEQ_K, AF_VSOCK, 0, 1), deny, allow];
  const domainRules: [string, () => Insn[]][] =
    mode === "network" ? [["socket", onlyUnixStream], ["socketpair", onlyUnixStream]]
    : mode === "vsock" ? [["socket", notVsock]]
    : [["socket", neitherUnixNorVsock], ["socketpair", onlyUnixStream]];
  for (const [name, rules] of domainRules) {
    const body = [stmt(LD_W_ABS, OFF_ARG0), ...rules()];
    prog.push(jump(JEQ_K, a.nr[name]!, 0, body.length), ...body);
  }
  prog.push(allow);
  const out = new Uint8Array(prog.length * 8);
  const view = new DataView(out.buffer);
  prog.forEach((insn, i) => {
    view.setUint16(i * 8, insn.code, true);
    view.setUint8(i * 8 + 2, insn.jt);
    view.setUint8(i * 8 + 3, insn.jf);
    view.setUint32(i * 8 + 4, insn.k >>> 0, true);
  });
  return out;
}

/** A file holding the compiled filter for `mode` (bwrap's `--seccomp FD` reads it), written once per executor. */
export function seccompFilterFile(mode: SeccompMode): string {
  const path = join(privateDir(), `seccomp-${mode}-${process.arch}.bpf`);
  const filter = buildFilter(mode);
  let current: Buffer | null = null;
  try {
    current = readFileSync(path);
  } catch {
    // Not written yet.
  }
  if (!current?.equals(filter)) writeFileSync(path, filter, { mode: 0o600 });
  return path;
}
