/**
 * `execbox doctor`: what this machine can enforce, so an operator knows before
 * the first sandboxed command. Only probes; changes nothing.
 */
import { existsSync, readFileSync } from "node:fs";
import { chooseBackend } from "./backend.ts";
import { findBwrap } from "./bwrap.ts";

export type DoctorReport = {
  platform: string;
  pty: boolean;
  bwrap: { path: string; version: string } | null;
  unshare: boolean;
  userNamespaces: { maxUserNamespaces: number | null; unprivilegedClone: boolean | null; works: boolean };
  seccomp: boolean;
  landlockAbi: number | null;
  /** What `--sandbox-backend auto` would use here: bwrap, landlock (no namespaces: fewer policies), or none. */
  sandboxBackend: "bwrap" | "landlock" | "none";
  /** Restricting requests will be enforced, not refused. */
  sandboxEnforced: boolean;
};

export async function doctor(): Promise<DoctorReport> {
  const bwrap = findBwrap(process.env.PATH);
  const userNamespaces = probeUserNamespaces();
  const backend = process.platform === "linux" ? chooseBackend("auto", process.env.PATH).kind : "none";
  return {
    platform: `${process.platform}-${process.arch}`,
    pty: await probePty(),
    bwrap: bwrap && { path: bwrap.path, version: bwrap.version },
    unshare: Bun.which("unshare") !== null,
    userNamespaces,
    seccomp: /^Seccomp:\s+\d/m.test(readText("/proc/self/status") ?? ""),
    landlockAbi: probeLandlock(),
    sandboxBackend: backend,
    sandboxEnforced: backend !== "none",
  };
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/** Runs `tty` on a fresh PTY: it exits 0 only if its stdin is a terminal. */
async function probePty(): Promise<boolean> {
  try {
    const proc = Bun.spawn(["tty"], { terminal: { cols: 80, rows: 24, data() {} } });
    return (await proc.exited) === 0;
  } catch {
    return false;
  }
}

function probeUserNamespaces(): DoctorReport["userNamespaces"] {
  const max = readText("/proc/sys/user/max_user_namespaces");
  const clone = readText("/proc/sys/kernel/unprivileged_userns_clone");
  const unshare = Bun.which("unshare");
  const works = unshare !== null && Bun.spawnSync([unshare, "--user", "--map-root-user", "true"], { stderr: "ignore" }).exitCode === 0;
  return {
    maxUserNamespaces: max === undefined ? null : Number(max.trim()),
    unprivilegedClone: clone === undefined ? null : clone.trim() === "1",
    works,
  };
}

/** Landlock's ABI version via landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION), or null. */
function probeLandlock(): number | null {
  if (process.platform !== "linux" || !existsSync("/proc/self")) return null;
  try {
    const { dlopen, FFIType } = require("bun:ffi") as typeof import("bun:ffi");
    // The same number on x86-64 and arm64 (syscalls added after 5.x share one table).
    const SYS_LANDLOCK_CREATE_RULESET = 444;
    const LANDLOCK_CREATE_RULESET_VERSION = 1;
    const libc = dlopen("libc.so.6", { syscall: { args: [FFIType.i64, FFIType.ptr, FFIType.u64, FFIType.u32], returns: FFIType.i64 } });
    const abi = Number(libc.symbols.syscall(SYS_LANDLOCK_CREATE_RULESET, null, 0, LANDLOCK_CREATE_RULESET_VERSION));
    libc.close();
    return abi > 0 ? abi : null;
  } catch {
    return null;
  }
}

export function formatReport(r: DoctorReport): string {
  const yes = (b: boolean) => (b ? "yes" : "no");
  return [
    `platform          ${r.platform}`,
    `pty               ${yes(r.pty)}`,
    `bwrap             ${r.bwrap ? `${r.bwrap.version} (${r.bwrap.path})` : "not found"}`,
    `user namespaces   ${yes(r.userNamespaces.works)} (max_user_namespaces=${r.userNamespaces.maxUserNamespaces ?? "?"}, unprivileged_userns_clone=${r.userNamespaces.unprivilegedClone ?? "n/a"})`,
    `seccomp           ${yes(r.seccomp)}`,
    `landlock ABI      ${r.landlockAbi ?? "unavailable"}`,
    r.sandboxBackend === "bwrap"
      ? "sandbox enforced  yes — bubblewrap: file-system view, PID/IPC/network namespaces, seccomp; fs/* via the fs helper"
      : r.sandboxBackend === "landlock"
        ? "sandbox enforced  yes — Landlock + seccomp (no user namespaces: policies that mask inside readable trees are refused)"
        : "sandbox enforced  no — sandboxed requests that restrict anything are refused rather than run unsandboxed",
    "",
  ].join("\n");
}
