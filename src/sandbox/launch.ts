/**
 * From sandbox intent to how a process is started on this host: the
 * `sandboxType` to report and, when something must be enforced, the wrapper
 * argv to run the program under. Anything that cannot be enforced here fails
 * closed with -32602 — a sandboxed request never runs unsandboxed.
 */
import { existsSync } from "node:fs";
import { invalidParams } from "../protocol/errors.ts";
import type { ManagedNetwork, SandboxContext } from "../protocol/messages/sandbox.ts";
import { type Backend, type SandboxBackend, chooseBackend } from "./backend.ts";
import { bwrapArgs } from "./bwrap.ts";
import { landlockSpec } from "./landlock.ts";
import { SANDBOX_EXEC, seatbeltArgv, seatbeltProfile } from "./seatbelt.ts";
import { KEEP_FD_FLAG, SECCOMP_STAGE_FLAG } from "./internal-flags.ts";
import { startHostBridge } from "./managed-network.ts";
import { isExecutorPort, landlockNetworkRefusal } from "./peer-guard.ts";
import { holdPlaceholders } from "./placeholders.ts";
import { type FsView, MINIMAL_LINUX_ROOTS, type SandboxPlan, resolveSandbox, withReadable } from "./policy.ts";
import { type SeccompMode, seccompFilterFile } from "./seccomp.ts";
import { selfCommand } from "./self-command.ts";

export type SandboxType = "none" | "linuxSeccomp" | "macosSeatbelt" | "windowsRestrictedToken";

export type SandboxedLaunch = {
  sandboxType: SandboxType;
  /** Program and arguments to put before the command (ending in `--`), if any. */
  wrapper: string[] | null;
  /** Files the wrapper reads from descriptors 3, 4, … (opened for the spawn, closed after it). */
  fdFiles?: string[];
  /** Frees what the sandbox holds on the host (the managed network bridge) once the process is closed. */
  release?: () => void;
};

/** The descriptor a spawned bwrap finds the compiled seccomp filter on (the first after stdio). */
export const SECCOMP_FD = 3;

export const CANNOT_ENFORCE = "sandbox intent cannot be enforced on this executor";

/** What sandboxing needs from the server context (never from `process.env`): given once, passed down. */
export type SandboxHost = {
  /** `--sandbox-backend`. */
  backend: SandboxBackend;
  /** Where bwrap is looked for: the executor's PATH, from its injected environment. */
  searchPath: string | undefined;
  /** Files holding the executor's secrets (canonical paths): no sandbox may read them. */
  secretPaths: readonly string[];
};

export type LaunchRequest = {
  sandbox: SandboxContext | null | undefined;
  enforceManagedNetwork: boolean;
  cwd: string;
  /** The program's environment (`tmpdir` entries bind to its TMPDIR). */
  env: Record<string, string>;
  tty: boolean;
  arg0?: string | null;
  /** An inherited descriptor the command must keep through the sandbox's own stage (the shell snapshot's). */
  keepFd?: number;
  host: SandboxHost;
  managedNetwork?: ManagedNetwork | null;
};

/** How an enforced plan is run: where, on a terminal or not, under which arg0, keeping which descriptor. */
export type RunShape = { cwd: string; tty: boolean; arg0?: string | null; keepFd?: number };

type Choose = (wanted: SandboxBackend, searchPath: string | undefined) => Backend;
type EnforcePlan = Extract<SandboxPlan, { kind: "enforce" }>;

/** The platform's name for "sandboxed", reported for every request that carries a sandbox. */
export function platformSandboxType(platform = process.platform): SandboxType | null {
  if (platform === "linux") return "linuxSeccomp";
  if (platform === "darwin") return "macosSeatbelt";
  return null;
}

/** A `process/start`'s sandbox intent → how to start it. */
export function planLaunch(req: LaunchRequest, choose: Choose = chooseBackend): SandboxedLaunch {
  const plan = resolveSandbox(req.sandbox, { cwd: req.cwd, env: req.env });
  // As the reference: without a sandbox, enforceManagedNetwork is ignored.
  if (req.enforceManagedNetwork && plan.kind !== "none") return planManagedNetwork(req, plan, choose);
  if (plan.kind === "none") return { sandboxType: "none", wrapper: null };
  const sandboxType = platformSandboxType();
  if (sandboxType === null) throw invalidParams(`${CANNOT_ENFORCE}: no sandbox backend for ${process.platform}`);
  if (plan.kind === "unrestricted") return { sandboxType, wrapper: null };
  if (process.platform === "darwin") {
    if (!existsSync(SANDBOX_EXEC)) throw invalidParams(`${CANNOT_ENFORCE}: ${SANDBOX_EXEC} is missing`);
    return { sandboxType, wrapper: seatbeltArgv(seatbeltProfile(plan.view, plan.network, plan.view?.minimal ?? false)) };
  }
  if (process.platform !== "linux") throw invalidParams(`${CANNOT_ENFORCE}: no sandbox backend for ${process.platform} in this build`);
  return wrapEnforced(plan, req, req.host, choose);
}

/**
 * The one Linux launcher, for commands and the fs helper alike: an enforced
 * plan → the wrapper to put before the program (bwrap, or the inner stage
 * under Landlock), the files it reads on descriptors 3…, and what to release
 * once the program is closed. Refused (-32602) when nothing here can enforce it.
 */
export function wrapEnforced(plan: EnforcePlan, run: RunShape, host: SandboxHost, choose: Choose = chooseBackend): SandboxedLaunch {
  const sandboxType: SandboxType = "linuxSeccomp";
  const backend = choose(host.backend, host.searchPath);
  if (backend.kind === "none") throw invalidParams(`${CANNOT_ENFORCE}: ${backend.why}`);
  const mode = seccompModeFor(plan.network);
  const self = selfCommand();
  const argv0 = [...(run.arg0 ? ["--argv0", run.arg0] : []), ...keepFdArgs(run.keepFd)];
  if (backend.kind === "landlock") {
    const exposed = plan.network === "enabled" ? landlockNetworkRefusal() : null;
    if (exposed) throw invalidParams(`${CANNOT_ENFORCE}: ${exposed}`);
    const spec = landlockSpec(plan.view, mode, host.secretPaths);
    if (typeof spec === "string") throw invalidParams(`${CANNOT_ENFORCE}: ${spec} (bubblewrap can; see \`execbox doctor\`)`);
    return { sandboxType, wrapper: [...self.argv, SECCOMP_STAGE_FLAG, mode, "--landlock", JSON.stringify(spec), ...argv0, "--"] };
  }
  const bwrap = backend.bwrap;
  // Fast path: bwrap installs the compiled filter itself, from a descriptor (pipes only; a PTY spawn takes no
  // extra descriptors), and passes arg0 on when it can.
  if (!run.tty && (!run.arg0 || bwrap.argv0)) {
    const release = holdOrRefuse(plan.view);
    const args = bwrapArgs(plan, { cwd: run.cwd, tty: false, seccompFd: SECCOMP_FD, argv0: run.arg0, proc: bwrap.proc, secrets: host.secretPaths });
    return { sandboxType, wrapper: [bwrap.path, ...args], fdFiles: [seccompFilterFile(mode)], release };
  }
  // Otherwise this executable's inner stage, inside bwrap, installs the filter and execs the command with its arg0.
  const view = plan.view && withReadable(plan.view, [...MINIMAL_LINUX_ROOTS, ...self.readable]);
  const stage = [...self.argv, SECCOMP_STAGE_FLAG, mode, ...argv0, "--"];
  const release = holdOrRefuse(plan.view);
  return { sandboxType, wrapper: [bwrap.path, ...bwrapArgs({ ...plan, view }, { cwd: run.cwd, tty: run.tty, proc: bwrap.proc, secrets: host.secretPaths }), ...stage], release };
}

const keepFdArgs = (fd: number | undefined): string[] => (fd === undefined ? [] : [KEEP_FD_FLAG, String(fd)]);

/** Stand-ins for missing protected names (see placeholders.ts); if one cannot be made, nothing runs. */
export function holdOrRefuse(view: FsView | null): () => void {
  try {
    return holdPlaceholders(view);
  } catch (e) {
    throw invalidParams(`${CANNOT_ENFORCE}: cannot hold a missing path in place: ${(e as Error).message}`);
  }
}

/** Only the listed 127.0.0.1 ports reachable: bwrap's network namespace plus the bridge; anything else fails closed. */
function planManagedNetwork(req: LaunchRequest, plan: Exclude<SandboxPlan, { kind: "none" }>, choose: Choose): SandboxedLaunch {
  const ports = [...new Set(req.managedNetwork?.loopbackPorts ?? [])];
  if (ports.length === 0) throw invalidParams(`${CANNOT_ENFORCE}: enforceManagedNetwork needs managedNetwork.loopbackPorts (the proxies the sandbox may reach)`);
  if (ports.some((p) => p < 1)) throw invalidParams(`${CANNOT_ENFORCE}: managedNetwork.loopbackPorts must be ports 1-65535`);
  // The bridge is the executor's own socket: pointed at the executor, it would hand the sandbox an unsandboxed session.
  const own = ports.find(isExecutorPort);
  if (own !== undefined) throw invalidParams(`${CANNOT_ENFORCE}: managedNetwork.loopbackPorts includes ${own}, this executor's own port`);
  if (process.platform !== "linux") throw invalidParams(`${CANNOT_ENFORCE}: managed network is not available on ${process.platform} in this build`);
  const backend = choose(req.host.backend, req.host.searchPath);
  if (backend.kind !== "bwrap") throw invalidParams(`${CANNOT_ENFORCE}: managed network needs bubblewrap (a network namespace); ${backend.kind === "none" ? backend.why : "only Landlock is available here"}`);
  const self = selfCommand();
  const holding = holdOrRefuse(plan.kind === "enforce" ? plan.view : null);
  const bridge = startHostBridge(ports);
  const base = plan.kind === "enforce" ? plan.view : null;
  const view = base && withReadable(base, [...MINIMAL_LINUX_ROOTS, ...self.readable]);
  // The bridge is seen read-only inside the masked private dir: the command cannot swap its sockets.
  const args = bwrapArgs({ kind: "enforce", view, network: "restricted" }, { cwd: req.cwd, tty: req.tty, proc: backend.bwrap.proc, bridge: bridge.dir, secrets: req.host.secretPaths });
  const stage = [...self.argv, SECCOMP_STAGE_FLAG, "proxy", "--bridge", bridge.dir, ports.join(","), ...(req.arg0 ? ["--argv0", req.arg0] : []), ...keepFdArgs(req.keepFd), "--"];
  const release = () => {
    bridge.release();
    holding();
  };
  return { sandboxType: "linuxSeccomp", wrapper: [backend.bwrap.path, ...args, ...stage], release };
}

/** A cut network gets the socket rules; an open one still loses AF_VSOCK and io_uring. */
export function seccompModeFor(network: "restricted" | "enabled"): SeccompMode {
  return network === "restricted" ? "network" : "vsock";
}
