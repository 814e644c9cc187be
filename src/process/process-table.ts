/**
 * The processes of one session, keyed by the client-chosen `processId`, and
 * the five `process/*` operations on them. An exited and closed process stays
 * readable (its id reserved) for `exitedRetentionMs`, then is forgotten.
 */
import { ErrorCode, RpcError, invalidParams, invalidRequest } from "../protocol/errors.ts";
import type { ProcessReadResult, ProcessStartParams, WriteStatus } from "../protocol/messages/process.ts";
import { type NativePath, displayPath, parsePathUri } from "../protocol/path-uri.ts";
import { CANNOT_ENFORCE, type SandboxHost, type SandboxType, planLaunch } from "../sandbox/launch.ts";
import { trackSandboxRoot } from "../sandbox/peer-guard.ts";
import { accountShell } from "./account-shell.ts";
import { resolveChildEnv } from "./env-policy.ts";
import { ManagedProcess, type ProcessEventSink, type ProcessLimits } from "./managed-process.ts";
import { refuseUnenforcedPolicy } from "./unenforced-policy.ts";
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
};

export class ProcessTable {
  private readonly procs = new Map<string, ManagedProcess>();
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

  start(params: ProcessStartParams): { processId: string; sandboxType: SandboxType } {
    refuseUnenforcedPolicy(params);
    if (params.argv.length === 0) throw invalidParams("argv must not be empty");
    if (this.procs.has(params.processId)) throw invalidRequest(`process ${params.processId} already exists`);
    this.admit();
    const cwd = parseCwd(params.cwd);
    // Sandbox launchers take paths as text; a lossy cwd would run and resolve the policy elsewhere.
    if (typeof cwd !== "string" && (params.sandbox || params.enforceManagedNetwork)) {
      throw invalidParams(`${CANNOT_ENFORCE}: cwd \`${displayPath(cwd)}\` is not UTF-8`);
    }
    const env = resolveChildEnv(this.options.ownEnv, params.envPolicy, params.env);
    // A PTY child also gets the account's login shell as SHELL unless it has one (as the reference's PTY layer does).
    if (params.tty && env.SHELL === undefined) env.SHELL = this.ptyShell();
    const { sandboxType, wrapper, fdFiles, release } = planLaunch({
      sandbox: params.sandbox,
      enforceManagedNetwork: params.enforceManagedNetwork ?? false,
      cwd: displayPath(cwd),
      env,
      tty: params.tty,
      arg0: params.arg0,
      host: this.options.sandbox,
      managedNetwork: params.managedNetwork,
    });
    let proc: ManagedProcess;
    try {
      proc = new ManagedProcess(
        params.processId,
        {
          argv: params.argv,
          arg0: params.arg0,
          cwd,
          env,
          tty: params.tty,
          pipeStdin: params.pipeStdin ?? false,
          wrapper,
          fdFiles,
        },
        this.sink,
        this.options,
      );
    } catch (e) {
      release?.();
      throw e;
    }
    this.procs.set(params.processId, proc);
    // A wrapped child is a sandbox root: connections from its tree are refused (see peer-guard.ts).
    const untrack = wrapper ? trackSandboxRoot(proc.pid) : () => {};
    this.running++;
    this.options.caps.executor.running++;
    metrics.processStarted();
    proc.onClosed = () => {
      untrack();
      this.running--;
      this.options.caps.executor.running--;
      metrics.processExited();
      release?.();
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

  async write(processId: string, writeId: string, bytes: Uint8Array): Promise<WriteStatus> {
    if (writeId === "") throw invalidParams("writeId must not be empty");
    const proc = this.procs.get(processId);
    if (!proc) return "unknownProcess";
    return proc.write(writeId, bytes);
  }

  connectionChanged(state: "detached" | "attached" | "ended"): void {
    for (const p of this.procs.values()) p.connectionChanged(state);
  }

  interrupt(processId: string): void {
    this.procs.get(processId)?.interrupt();
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

  get size(): number {
    return this.procs.size;
  }
}
