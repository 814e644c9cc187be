/**
 * One child process as the protocol sees it: a single seq counter shared by
 * output chunks, `exited` and `closed`; retained output for `process/read`;
 * long-poll waiters; `writeId` dedupe. Knows nothing of sockets: events go to
 * a `ProcessEventSink`, whose `ready()` pauses pipe reads while the consumer is
 * congested.
 */
import { encodeBase64 } from "../protocol/base64.ts";
import { internalError } from "../protocol/errors.ts";
import { releaseBuffer } from "../protocol/frame-memory.ts";
import type { NotificationName, NotificationParams } from "../protocol/methods.ts";
import type { OutputStream, ProcessReadResult, WriteStatus } from "../protocol/messages/process.ts";
import type { Clock } from "../server/clock.ts";
import { Waiters } from "../server/waiters.ts";
import type { ClientAnswer } from "../server/client-requests.ts";
import { DENIAL_SCAN_BYTES, looksDenied } from "../sandbox/denial.ts";
import { OutputLog } from "./output-log.ts";
import { type Child, type OutputSource, type SpawnSpec, spawnChild } from "./spawn.ts";

export interface ProcessEventSink {
  notify<N extends NotificationName>(method: N, params: NotificationParams<N>): void;
  /** A `process/output` chunk, as raw bytes: the sink encodes it for its wire (lent: valid during the call only). */
  output(processId: string, seq: number, stream: OutputStream, bytes: Uint8Array): void;
  /** `undefined` when the consumer can take more output now, else a promise that settles when it can. */
  ready(): Promise<void> | undefined;
  /** A request to the client (the managed proxy's `network/policyRequest`); settles, never rejects. */
  ask(method: string, params: unknown, timeoutMs: number, signal?: AbortSignal): Promise<ClientAnswer>;
}

/**
 * While a client may not have seen all of a process's retained output (its
 * connection dropped, or it resumed but has not caught up yet), the pipes are
 * not read once the retained output is within this of full: the child blocks
 * instead of output being evicted unread. One pipe read is at most this large.
 */
export const CATCH_UP_PAUSE_MARGIN_BYTES = 256 * 1024;
/**
 * After a resume, how long a client has to catch up with `process/read`
 * (reading up to the newest chunk ends the wait sooner). Clients that only
 * follow notifications (the Codex CLI) never read; their output resumes after this.
 */
export const CATCH_UP_GRACE_MS = 5_000;

export type ProcessLimits = {
  /** Bytes of output kept for `process/read` per process. */
  retainedOutputBytes: number;
  /** Largest `process/output` chunk; bigger pipe reads are split. */
  maxChunkBytes: number;
  clock: Clock;
};

/**
 * After the child exits, wait this long for its pipes to reach EOF before
 * announcing `exited`, so output the child wrote just before exiting gets the
 * lower seq (as clients expect) without holding `exited` back when a
 * grandchild keeps a pipe open.
 */
export const EXIT_OUTPUT_GRACE_MS = 25;

export class ManagedProcess {
  private seq = 1;
  private readonly log: OutputLog;
  private exitCode: number | null = null;
  private exitSeq: number | null = null;
  private closedSeq: number | null = null;
  private openStreams: number;
  private readonly waiters = new Set<() => void>();
  private readonly writeIds = new Set<string>();
  private readonly child: Child;

  /** The spawned program's pid (under a sandbox: its wrapper's). */
  get pid(): number {
    return this.child.pid;
  }
  private streamsDone!: () => void;
  private readonly allStreamsDone = new Promise<void>((r) => (this.streamsDone = r));
  /** Runs under a sandbox (`sandboxType` not "none"): its exit is classified for `sandboxDenied`. */
  sandboxed = false;
  private sandboxDenied = false;
  /** Called once as the process closes, before `closed` is sent (so what it frees is gone when a client sees it). */
  onClosed: (exitCode: number) => void = () => {};
  /** Output bytes produced so far (stdout, stderr and PTY), for the log. */
  bytesOut = 0;

  constructor(
    readonly id: string,
    spec: SpawnSpec,
    private readonly sink: ProcessEventSink,
    private readonly limits: ProcessLimits,
  ) {
    this.log = new OutputLog(limits.retainedOutputBytes, limits.maxChunkBytes);
    this.openStreams = spec.tty ? 1 : 2;
    this.child = spawnChild(spec, {
      data: (bytes) => {
        this.emitOutput("pty", bytes);
        // A fresh buffer per callback, encoded and copied by now, as with pipe reads.
        releaseBuffer(bytes);
        this.throttleTerminal();
      },
      end: () => this.streamEnded(),
    });
    if (this.child.stdout) void this.pump(this.child.stdout, "stdout");
    if (this.child.stderr) void this.pump(this.child.stderr, "stderr");
    void this.child.exited.then((code) => this.onExit(code));
  }

  get running(): boolean {
    return this.exitSeq === null;
  }
  get closed(): boolean {
    return this.closedSeq !== null;
  }
  /** Output bytes this process holds for `process/read` now (in memory or in its spill file). */
  get retainedBytes(): number {
    return this.limits.retainedOutputBytes - this.log.freeBytes;
  }

  /**
   * Connection state, told by the session: `detached` holds output that might
   * be unread; `attached` gives the client the grace period to catch up;
   * `ended` (no client will come) releases everything.
   */
  connectionChanged(state: "detached" | "attached" | "ended"): void {
    this.cancelGrace?.();
    this.cancelGrace = null;
    if (state === "detached") this.unreadMayBeLost = true;
    else if (state === "ended") this.caughtUp();
    else this.cancelGrace = this.limits.clock.after(CATCH_UP_GRACE_MS, () => this.caughtUp());
  }

  private unreadMayBeLost = false;
  private cancelGrace: (() => void) | null = null;
  private readonly catchingUp = new Waiters();

  /**
   * Whether output may be produced now: the consumer's credit (the
   * connection's flow) and this process's own catch-up hold. `undefined`: go on.
   */
  private outputHold(): Promise<void> | undefined {
    return this.sink.ready() ?? this.catchingUp.unless(this.unreadMayBeLost && this.log.freeBytes < CATCH_UP_PAUSE_MARGIN_BYTES);
  }

  private caughtUp(): void {
    this.unreadMayBeLost = false;
    this.catchingUp.wakeAll();
  }

  private async pump(source: OutputSource, name: OutputStream): Promise<void> {
    const reader = source.stream.getReader();
    try {
      for (;;) {
        const wait = this.outputHold();
        if (wait) {
          await wait;
          continue;
        }
        const { done, value } = await reader.read();
        if (done) break;
        this.emitOutput(name, value);
        // Encoded and copied into the log: free it now, not at some later collection.
        releaseBuffer(value);
      }
    } catch {
      // A read error ends the stream like EOF; the exit status still arrives.
    } finally {
      reader.releaseLock();
      source.close();
      this.streamEnded();
    }
  }

  /** A PTY cannot be left unread like a pipe: while the consumer is backed up, its output is stopped instead. */
  private throttleTerminal(): void {
    if (this.terminalPaused) return;
    const wait = this.outputHold();
    if (!wait) return;
    this.terminalPaused = true;
    this.child.pauseOutput();
    void wait.then(() => {
      this.terminalPaused = false;
      this.child.resumeOutput();
    });
  }
  private terminalPaused = false;

  private emitOutput(stream: OutputStream, bytes: Uint8Array): void {
    const max = this.limits.maxChunkBytes;
    this.bytesOut += bytes.byteLength;
    for (let off = 0; off < bytes.byteLength; off += max) {
      const piece = bytes.subarray(off, Math.min(off + max, bytes.byteLength));
      const seq = this.seq++;
      this.log.append({ seq, stream, bytes: piece });
      this.sink.output(this.id, seq, stream, piece);
    }
    this.wake();
  }

  private streamEnded(): void {
    if (--this.openStreams === 0) this.streamsDone();
    this.maybeClose();
  }

  private async onExit(code: number): Promise<void> {
    let timer: Timer | undefined;
    await Promise.race([this.allStreamsDone, new Promise((r) => (timer = setTimeout(r, EXIT_OUTPUT_GRACE_MS)))]);
    clearTimeout(timer);
    this.exitCode = code;
    // Classified once, after the grace above let late output in.
    this.sandboxDenied = this.sandboxed && looksDenied(code, this.log.recentText(DENIAL_SCAN_BYTES));
    this.exitSeq = this.seq++;
    this.sink.notify("process/exited", { processId: this.id, seq: this.exitSeq, exitCode: code, sandboxDenied: this.sandboxDenied });
    this.wake();
    this.maybeClose();
  }

  /** Retention is over: the retained output (and any spill file) is released. */
  forget(): void {
    this.log.close();
  }

  private maybeClose(): void {
    if (this.closedSeq !== null || this.exitSeq === null || this.openStreams > 0) return;
    this.closedSeq = this.seq++;
    this.onClosed(this.exitCode!);
    this.sink.notify("process/closed", { processId: this.id, seq: this.closedSeq });
    this.child.release();
    this.wake();
  }

  private wake(): void {
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const w of waiters) w();
  }

  /** True when a read after `afterSeq` has something new to report. */
  private hasNews(afterSeq: number): boolean {
    return this.closed || this.log.hasAfter(afterSeq) || (this.exitSeq !== null && this.exitSeq > afterSeq);
  }

  async read(afterSeq: number, maxBytes: number | undefined, waitMs: number): Promise<ProcessReadResult> {
    if (waitMs > 0 && !this.hasNews(afterSeq)) await this.waitForNews(afterSeq, waitMs);
    const chunks = this.log.read(afterSeq, maxBytes);
    const last = chunks[chunks.length - 1];
    // A read that reaches the newest chunk means the client has caught up.
    if (this.unreadMayBeLost && !this.log.hasAfter(last?.seq ?? afterSeq)) this.caughtUp();
    return {
      chunks: chunks.map((c) => ({ seq: c.seq, stream: c.stream, chunk: encodeBase64(c.bytes) })),
      nextSeq: maxBytes !== undefined && last ? last.seq + 1 : this.seq,
      exited: this.exitSeq !== null,
      exitCode: this.exitCode,
      closed: this.closed,
      failure: null,
      sandboxDenied: this.sandboxDenied,
    };
  }

  /** Long-poll: settles when something after `afterSeq` exists, or at the deadline. */
  private waitForNews(afterSeq: number, waitMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const finish = () => {
        this.waiters.delete(check);
        cancel();
        resolve();
      };
      const check = () => (this.hasNews(afterSeq) ? finish() : this.waiters.add(check));
      const cancel = this.limits.clock.after(waitMs, finish);
      this.waiters.add(check);
    });
  }

  async write(writeId: string, bytes: Uint8Array): Promise<WriteStatus> {
    if (this.writeIds.has(writeId)) return "accepted";
    if (!this.child.canWrite) return "stdinClosed";
    if (!this.running) throw internalError("failed to write to process stdin");
    this.writeIds.add(writeId);
    if (bytes.byteLength === 0) return "accepted";
    try {
      await this.child.write(bytes);
    } catch {
      this.writeIds.delete(writeId);
      throw internalError("failed to write to process stdin");
    }
    return "accepted";
  }

  interrupt(): void {
    if (this.running) this.child.signalGroup("SIGINT");
  }

  /** SIGKILL to the process group; true if the process was still running. */
  terminate(): boolean {
    if (!this.running) return false;
    this.child.signalGroup("SIGKILL");
    return true;
  }

  /** Resolves once the process is closed. */
  whenClosed(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => (this.closed ? resolve() : this.waiters.add(check));
      this.waiters.add(check);
    });
  }
}
