/**
 * The processes of one session, keyed by the client-chosen `processId`, and
 * the five `process/*` operations on them. An exited and closed process stays
 * readable (its id reserved) for `exitedRetentionMs`, then is forgotten.
 */
import { closeSync } from "node:fs";
import { ErrorCode, RpcError, invalidParams, invalidRequest } from "../protocol/errors.ts";
import type { ProcessReadResult, ProcessStartParams, WriteStatus } from "../protocol/messages/process.ts";
import { type NativePath, displayPath, parsePathUri } from "../protocol/path-uri.ts";
import { CANNOT_ENFORCE, type SandboxHost, type SandboxType, planLaunch } from "../sandbox/launch.ts";
import { trackSandboxRoot } from "../sandbox/peer-guard.ts";
import type { MitmAuthority } from "../network/mitm/authority.ts";
import { captureParams, maskingAuthority, startProcessProxy } from "./process-network.ts";
import { accountShell } from "./account-shell.ts";
import { resolveChildEnv } from "./env-policy.ts";
import { ManagedProcess, type ProcessEventSink, type ProcessLimits } from "./managed-process.ts";
import { ProcessExtras } from "./process-extras.ts";
import { checkRunTimeouts } from "./run-timeouts.ts";
import type { ProcessListResult } from "../protocol/messages/process-list.ts";
import type { ProcessWatchParams } from "../protocol/messages/process-watch.ts";
import { MAX_WATCHES_PER_SESSION } from "./output-watch.ts";
import { openRestoreScript } from "./shell-snapshot-capture.ts";
import { type CapturedShell, SNAPSHOT_FD, restoreArgv, restoreFileText } from "./shell-snapshot-script.ts";
import { type ShellSnapshots, type SnapshotRequest, restoredEnv, snapshotKey, snapshotRequest } from "./shell-snapshot.ts";
import { refuseUnenforcedPolicy } from "./unenforced-policy.ts";
import { type PtySize, checkStartSize } from "./pty-size.ts";
import type { SignalValue } from "../protocol/signals.ts";
import { log } from "../log/logger.ts";
import { metrics } from "../server/metrics.ts";

/** A cwd valid as a URI but not on this host is -32602 with the reference's wording. */
function parseCwd(uri: string): NativePath {
  try {
    return parsePathUri(uri);
  } catch (e) {
    if (e instanceof RpcError && e.code === ErrorCode.InvalidRequest) {
      throw invalidParams(`cwd URI \`${uri}\` is not valid on this exec-server host: ${e.message}`);
    }
    throw e;
  }
}

/** Processes running in the whole executor: one counter shared by every session's table. */
export type ExecutorProcesses = { running: number; readonly max: number };

/** What one session's processes may hold (values and reasons: src/server/limits.ts). */
export type ProcessCaps = {
  runningPerSession: number;
  exitedPerSession: number;
  retainedBytesPerSession: number;
  executor: ExecutorProcesses;
};

export type ProcessTableOptions = ProcessLimits & {
  caps: ProcessCaps;
  /** How long a closed process stays readable before its id is released. */
  exitedRetentionMs: number;
  /** The executor's own environment (envPolicy source, PATH for program lookup). */
  ownEnv: Record<string, string | undefined>;
  /** What sandboxing takes from the server context (backend, PATH, secrets). */
  sandbox: SandboxHost;
  /** The executor's shell snapshots, shared by every session (a scope outlives a connection). */
  snapshots: ShellSnapshots;
};

export class ProcessTable {
  private readonly procs = new Map<string, ManagedProcess>();
  /** execbox's additions per process (listing, timeouts, watches: process-extras.ts). */
  private readonly extras = new WeakMap<ManagedProcess, ProcessExtras>();
  /** Closed processes' forget timers, in the order they closed (so the first is the oldest). */
  private readonly forgetTimers = new Map<string, () => void>();
  /** Processes started and not yet closed. */
  private running = 0;
  /** The account's login shell, read once on the first PTY start. */
  private accountShell: string | undefined;

  constructor(
    private readonly sink: ProcessEventSink,
    private readonly options: ProcessTableOptions,
  ) {}

  /** Starts a process; a login command with a `shellSnapshot` first waits for its scope's snapshot (shell-snapshot.ts). */
  async start(params: ProcessStartParams): Promise<{ processId: string; sandboxType: SandboxType }> {
    const snapshot = this.check(params);
    const authority = await maskingAuthority(params, this.options.ownEnv);
    if (!snapshot) {
      if (authority) this.check(params);
      return this.startNow(params, null, authority);
    }
    const shell = await this.snapshotFor(params, snapshot);
    this.check(params);
    return this.startNow(params, shell, authority);
  }

  /** What is refused before anything runs (again after a snapshot wait, which others' starts may overtake). */
  private check(params: ProcessStartParams): SnapshotRequest | null {
    refuseUnenforcedPolicy(params);
    checkRunTimeouts(params);
    if (params.argv.length === 0) throw invalidParams("argv must not be empty");
    checkStartSize(params);
    const snapshot = snapshotRequest(params);
    if (this.procs.has(params.processId)) throw invalidRequest(`process ${params.processId} already exists`);
    this.admit();
    const cwd = parseCwd(params.cwd);
    // Sandbox launchers take paths as text; a lossy cwd would run and resolve the policy elsewhere.
    if (typeof cwd !== "string" && (params.sandbox || params.enforceManagedNetwork)) {
      throw invalidParams(`${CANNOT_ENFORCE}: cwd \`${displayPath(cwd)}\` is not UTF-8`);
    }
    return snapshot;
  }

  private snapshotFor(params: ProcessStartParams, req: SnapshotRequest): Promise<CapturedShell | null> {
    const own = this.options.ownEnv;
    const key = snapshotKey(req, resolveChildEnv(own, params.envPolicy, {}), [params.sandbox, params.enforceManagedNetwork]);
    return this.options.snapshots.get(key, () => {
      // The profile runs as the command would: same environment, cwd and sandbox (on pipes).
      const env = resolveChildEnv(own, params.envPolicy, params.env);
      const cwd = parseCwd(params.cwd);
      const launch = this.plan(captureParams(params), cwd, env, false, SNAPSHOT_FD);
      return { shellPath: req.shellPath, cwd, env, wrapper: launch.wrapper, fdFiles: launch.fdFiles, release: launch.release, overlay: params.env };
    });
  }

  /** The launch (sandbox wrapper) for this start; `keepFd` is the snapshot descriptor the wrapper must pass on. */
  /** The restore script's descriptor, or null (logged) to run the command as sent, as after a failed capture. */
  private openRestore(shell: CapturedShell): number | null {
    try {
      return openRestoreScript(restoreFileText(shell.script));
    } catch (e) {
      this.options.snapshots.log(`cannot restore shell snapshot: ${(e as Error).message}`);
      return null;
    }
  }

  /** `proxyPorts`: the process's own managed proxies, the only ports a sandboxed child may reach (through the namespace bridge). */
  private plan(params: ProcessStartParams, cwd: NativePath, env: Record<string, string>, tty: boolean, keepFd?: number, proxyPorts?: number[]) {
    return planLaunch({
      sandbox: params.sandbox,
      enforceManagedNetwork: params.enforceManagedNetwork ?? false,
      cwd: displayPath(cwd),
      env,
      tty,
      arg0: params.arg0,
      keepFd,
      host: this.options.sandbox,
      managedNetwork: proxyPorts ? { ...params.managedNetwork, loopbackPorts: proxyPorts } : params.managedNetwork,
    });
  }

  private startNow(params: ProcessStartParams, captured: CapturedShell | null, authority: MitmAuthority | null): { processId: string; sandboxType: SandboxType } {
    const restoreFd = captured ? this.openRestore(captured) : null;
    try {
      return this.launch(params, restoreFd === null ? null : captured, restoreFd, authority);
    } finally {
      // The child has its own copy by now (or never started).
      if (restoreFd !== null) closeSync(restoreFd);
    }
  }

  private launch(params: ProcessStartParams, shell: CapturedShell | null, restoreFd: number | null, authority: MitmAuthority | null): { processId: string; sandboxType: SandboxType } {
    const cwd = parseCwd(params.cwd);
    const extras = new ProcessExtras(params, this.sink, this.options.clock);
    const env = shell ? restoredEnv(shell.env, params.envPolicy, params.env) : resolveChildEnv(this.options.ownEnv, params.envPolicy, params.env);
    // A PTY child also gets the account's login shell as SHELL unless it has one (as the reference's PTY layer does).
    if (params.tty && env.SHELL === undefined) env.SHELL = this.ptyShell();
    const proxy = startProcessProxy(params, this.sink, authority);
    let planned: ReturnType<typeof planLaunch>;
    try {
      // Last, over a restored snapshot's environment too: a masked child never gets a real credential back from it.
      // (It refuses a credential no dummy can be made for.)
      proxy?.apply(env);
      planned = this.plan(params, cwd, env, params.tty, shell ? SNAPSHOT_FD : undefined, proxy?.ports);
    } catch (e) {
      proxy?.stop();
      throw e;
    }
    const { sandboxType, wrapper, fdFiles } = planned;
    const release = () => {
      planned.release?.();
      proxy?.stop();
    };
    let proc: ManagedProcess;
    try {
      proc = new ManagedProcess(
        params.processId,
        {
          argv: shell ? restoreArgv(params.argv) : params.argv,
          arg0: params.arg0,
          cwd,
          env,
          tty: params.tty,
          size: params.size,
          pipeStdin: params.pipeStdin ?? false,
          wrapper,
          fdFiles,
          extraFd: restoreFd === null ? undefined : { at: SNAPSHOT_FD, fd: restoreFd },
        },
        extras.sink,
        this.options,
      );
    } catch (e) {
      release();
      throw e;
    }
    this.procs.set(params.processId, proc);
    this.extras.set(proc, extras);
    extras.attach(proc);
    proc.onForgotten = () => extras.forgotten();
    // A wrapped child is a sandbox root: connections from its tree are refused (see peer-guard.ts).
    const untrack = wrapper ? trackSandboxRoot(proc.pid) : () => {};
    this.running++;
    this.options.caps.executor.running++;
    metrics.processStarted();
    const startedAt = Date.now();
    // argv[0] only: arguments and the environment may hold secrets.
    if (log.on("debug")) log.debug("process started", { process: params.processId, argv0: params.argv[0], pid: proc.pid, tty: params.tty, sandbox: sandboxType });
    proc.onClosed = (exitCode) => {
      if (log.on("debug")) {
        log.debug("process exited", { process: params.processId, pid: proc.pid, exit_code: exitCode, duration_ms: Date.now() - startedAt, bytes_out: proc.bytesOut });
      }
      untrack();
      this.running--;
      this.options.caps.executor.running--;
      metrics.processExited();
      release();
      this.scheduleForget(proc);
    };
    proc.sandboxed = sandboxType !== "none";
    return { processId: params.processId, sandboxType };
  }

  /**
   * Refuses a start past the running-process caps; makes room for its
   * retained output (and under the closed-process cap) by forgetting the
   * oldest closed processes first, refusing only if the running ones alone
   * would retain too much.
   */
  private ptyShell(): string {
    this.accountShell ??= accountShell();
    return this.accountShell;
  }

  private admit(): void {
    const caps = this.options.caps;
    if (this.running >= caps.runningPerSession) {
      throw invalidRequest(`process/start refused: this session already has ${caps.runningPerSession} running processes, the most it may have at once`);
    }
    if (caps.executor.running >= caps.executor.max) {
      throw invalidRequest(`process/start refused: this executor already runs ${caps.executor.max} processes, the most it may (--max-processes)`);
    }
    const window = this.options.retainedOutputBytes;
    let retained = 0;
    for (const p of this.procs.values()) retained += p.closed ? p.retainedBytes : window;
    while (this.forgetTimers.size >= caps.exitedPerSession || retained + window > caps.retainedBytesPerSession) {
      const oldest = this.forgetTimers.keys().next();
      if (oldest.done) {
        throw invalidRequest(
          `process/start refused: this session's processes may retain at most ${caps.retainedBytesPerSession} bytes of output, and another needs ${window} (--retained-output-bytes)`,
        );
      }
      retained -= this.procs.get(oldest.value)?.retainedBytes ?? 0;
      this.forgetTimers.get(oldest.value)!();
      this.forgetNow(oldest.value);
    }
  }

  private forgetNow(id: string): void {
    this.forgetTimers.delete(id);
    const proc = this.procs.get(id);
    this.procs.delete(id);
    proc?.forget();
  }

  private scheduleForget(proc: ManagedProcess): void {
    const cancel = this.options.clock.after(this.options.exitedRetentionMs, () => {
      this.forgetTimers.delete(proc.id);
      if (this.procs.get(proc.id) === proc) this.procs.delete(proc.id);
      proc.forget();
    });
    this.forgetTimers.set(proc.id, cancel);
  }

  read(processId: string, afterSeq: number, maxBytes: number | undefined, waitMs: number): Promise<ProcessReadResult> {
    const proc = this.procs.get(processId);
    if (!proc) throw invalidRequest(`unknown process id ${processId}`);
    return proc.read(afterSeq, maxBytes, waitMs);
  }

  async write(processId: string, writeId: string, bytes: Uint8Array, closeStdin = false): Promise<WriteStatus> {
    if (writeId === "") throw invalidParams("writeId must not be empty");
    const proc = this.procs.get(processId);
    if (!proc) return "unknownProcess";
    return proc.write(writeId, bytes, closeStdin);
  }

  connectionChanged(state: "detached" | "attached" | "ended"): void {
    for (const p of this.procs.values()) p.connectionChanged(state);
  }

  resizePty(processId: string, size: PtySize): void {
    const proc = this.procs.get(processId);
    if (!proc) throw invalidRequest(`unknown process id ${processId}`);
    proc.resizePty(size);
  }

  /** An unknown id is ignored, as the reference ignores `interrupt` to one. */
  signal(processId: string, value: SignalValue): void {
    this.procs.get(processId)?.signal(value);
  }

  terminate(processId: string): boolean {
    return this.procs.get(processId)?.terminate() ?? false;
  }

  /** Kills every process and resolves once all are closed (shutdown, expiry). */
  async terminateAll(): Promise<void> {
    const all = [...this.procs.values()];
    for (const p of all) p.terminate();
    await Promise.all(all.map((p) => p.whenClosed()));
    for (const cancel of this.forgetTimers.values()) cancel();
    this.forgetTimers.clear();
    for (const p of all) p.forget();
  }

  /** `process/list`: every process the session still holds, in start order. */
  list(): ProcessListResult {
    return { processes: [...this.procs.values()].map((p) => this.extras.get(p)!.describe(p)) };
  }

  /** `process/watch`: the session's cap first, then the process's (output-watch.ts), then the pattern's (watch-pattern.ts, in the watch worker). */
  async watch(params: ProcessWatchParams): Promise<{ watchId: string }> {
    const proc = this.procs.get(params.processId);
    if (!proc) throw invalidRequest(`unknown process id ${params.processId}`);
    const watching = [...this.procs.values()].reduce((n, p) => n + this.extras.get(p)!.watchCount, 0);
    if (watching >= MAX_WATCHES_PER_SESSION) {
      throw invalidRequest(`process/watch refused: this session already has ${MAX_WATCHES_PER_SESSION} watches, the most it may have at once`);
    }
    return { watchId: await this.extras.get(proc)!.watch(params.pattern, params.stream ?? null, params.afterSeq ?? null) };
  }

  unwatch(processId: string, watchId: string): { removed: boolean } {
    const proc = this.procs.get(processId);
    if (!proc) throw invalidRequest(`unknown process id ${processId}`);
    return { removed: this.extras.get(proc)!.unwatch(watchId) };
  }

  get size(): number {
    return this.procs.size;
  }
}
