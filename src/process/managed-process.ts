/**
 * One child process as the protocol sees it, its life top to bottom: spawn,
 * output (pumped from pipes or pushed by the PTY, held while the consumer is
 * congested or a client catches up), exit (after a grace for late output,
 * classified for sandbox denial), close, then reads, writes and signals.
 * Knows nothing of sockets: events go to a `ProcessEventSink`, whose
 * `ready()` pauses output while the consumer is congested. Each concern is
 * its own unit: process-record.ts (seq and retained output),
 * news-waiters.ts (long-poll), catch-up-hold.ts, pty-throttle.ts,
 * exit-grace.ts (exit grace and denial), stdin-writes.ts (writeId dedupe).
 */
import { encodeBase64 } from "../protocol/base64.ts";
import { type SignalValue, toSystemSignal } from "../protocol/signals.ts";
import { invalidParams } from "../protocol/errors.ts";
import { releaseBuffer } from "../protocol/frame-memory.ts";
import type { NotificationName, NotificationParams } from "../protocol/methods.ts";
import type { OutputStream, ProcessReadResult, WriteStatus } from "../protocol/messages/process.ts";
import type { Clock } from "../server/clock.ts";
import { CatchUpHold, type ConnectionState } from "./catch-up-hold.ts";
import { OpenStreams, classifyDenial, outputSettled } from "./exit-grace.ts";
import { NewsWaiters } from "./news-waiters.ts";
import { ProcessRecord } from "./process-record.ts";
import { type PtySize, checkPtySize, noTerminal } from "./pty-size.ts";
import { PtyThrottle } from "./pty-throttle.ts";
import type { RetainedChunk } from "./output-log.ts";
import type { ClientAnswer } from "../server/client-requests.ts";
import { type Child, type OutputSource, type SpawnSpec, spawnChild } from "./spawn.ts";
import { StdinWrites } from "./stdin-writes.ts";

export interface ProcessEventSink {
  notify<N extends NotificationName>(method: N, params: NotificationParams<N>): void;
  /** A `process/output` chunk, as raw bytes: the sink encodes it for its wire (lent: valid during the call only). */
  output(processId: string, seq: number, stream: OutputStream, bytes: Uint8Array): void;
  /** `undefined` when the consumer can take more output now, else a promise that settles when it can. */
  ready(): Promise<void> | undefined;
  /** A request to the client (the managed proxy's `network/policyRequest`); settles, never rejects. */
  ask(method: string, params: unknown, timeoutMs: number, signal?: AbortSignal): Promise<ClientAnswer>;
}

export type ProcessLimits = {
  /** Bytes of output kept for `process/read` per process. */
  retainedOutputBytes: number;
  /** Largest `process/output` chunk; bigger pipe reads are split. */
  maxChunkBytes: number;
  clock: Clock;
};

export class ManagedProcess {
  private readonly record: ProcessRecord;
  private readonly news: NewsWaiters;
  private readonly hold: CatchUpHold;
  private readonly streams: OpenStreams;
  private readonly child: Child;
  private readonly throttle: PtyThrottle;
  private readonly stdin: StdinWrites;
  private readonly tty: boolean;
  private sandboxDenied = false;
  /** Runs under a sandbox (`sandboxType` not "none"): its exit is classified for `sandboxDenied`. */
  sandboxed = false;
  /** Called once as the process closes, before `closed` is sent (so what it frees is gone when a client sees it). */
  onClosed: (exitCode: number) => void = () => {};
  /** Called as the retained output is released (`forget`): what reads it must stop. */
  onForgotten: () => void = () => {};
  /** Output bytes produced so far (stdout, stderr and PTY), for the log. */
  bytesOut = 0;

  constructor(
    readonly id: string,
    spec: SpawnSpec,
    private readonly sink: ProcessEventSink,
    limits: ProcessLimits,
  ) {
    this.record = new ProcessRecord(limits.retainedOutputBytes, limits.maxChunkBytes);
    this.news = new NewsWaiters(limits.clock);
    this.hold = new CatchUpHold(limits.clock);
    this.tty = spec.tty;
    this.streams = new OpenStreams(spec.tty ? 1 : 2);
    this.child = spawnChild(spec, {
      data: (bytes) => {
        this.emitOutput("pty", bytes);
        // A fresh buffer per callback, encoded and copied by now, as with pipe reads.
        releaseBuffer(bytes);
        this.throttle.check(this.outputHold());
      },
      end: () => this.streamEnded(),
    });
    this.throttle = new PtyThrottle(this.child);
    this.stdin = new StdinWrites(this.child);
    if (this.child.stdout) void this.pump(this.child.stdout, "stdout");
    if (this.child.stderr) void this.pump(this.child.stderr, "stderr");
    void this.child.exited.then((code) => this.onExit(code));
  }

  /** The spawned program's pid (under a sandbox: its wrapper's). */
  get pid(): number {
    return this.child.pid;
  }
  get running(): boolean {
    return this.record.running;
  }
  get closed(): boolean {
    return this.record.closed;
  }
  /** Output bytes this process holds for `process/read` now (in memory or in its spill file). */
  get retainedBytes(): number {
    return this.record.retainedBytes;
  }

  // --- output ---

  /** Connection state, told by the session (see CatchUpHold). */
  connectionChanged(state: ConnectionState): void {
    this.hold.connectionChanged(state);
  }

  /**
   * Whether output may be produced now: the consumer's credit (the
   * connection's flow) and this process's own catch-up hold. `undefined`: go on.
   */
  private outputHold(): Promise<void> | undefined {
    return this.sink.ready() ?? this.hold.blocks(this.record.freeBytes);
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

  private emitOutput(stream: OutputStream, bytes: Uint8Array): void {
    this.bytesOut += bytes.byteLength;
    this.record.appendOutput(stream, bytes, (seq, piece) => this.sink.output(this.id, seq, stream, piece));
    this.news.wake();
  }

  private streamEnded(): void {
    this.streams.ended();
    this.maybeClose();
  }

  // --- exit and close ---

  private async onExit(code: number): Promise<void> {
    await outputSettled(this.streams);
    // Classified once, after the grace above let late output in.
    this.sandboxDenied = classifyDenial(this.sandboxed, code, (n) => this.record.recentText(n));
    const seq = this.record.exited(code);
    this.sink.notify("process/exited", { processId: this.id, seq, exitCode: code, sandboxDenied: this.sandboxDenied });
    this.news.wake();
    this.maybeClose();
  }

  private maybeClose(): void {
    if (this.record.closed || this.record.running || this.streams.any) return;
    const seq = this.record.close();
    this.onClosed(this.record.exitCode!);
    this.sink.notify("process/closed", { processId: this.id, seq });
    this.child.release();
    this.news.wake();
  }

  /** Retention is over: the retained output (and any spill file) is released. */
  forget(): void {
    this.onForgotten();
    this.record.forget();
  }

  /** Resolves once the process is closed. */
  whenClosed(): Promise<void> {
    return this.news.whenever(() => this.record.closed);
  }

  // --- requests ---

  async read(afterSeq: number, maxBytes: number | undefined, waitMs: number): Promise<ProcessReadResult> {
    const record = this.record;
    if (waitMs > 0 && !record.hasNews(afterSeq)) await this.news.until(() => record.hasNews(afterSeq), waitMs);
    const chunks = record.read(afterSeq, maxBytes);
    const last = chunks[chunks.length - 1];
    // A read that reaches the newest chunk means the client has caught up.
    if (!record.hasOutputAfter(last?.seq ?? afterSeq)) this.hold.readReachedNewest();
    return {
      chunks: chunks.map((c) => ({ seq: c.seq, stream: c.stream, chunk: encodeBase64(c.bytes) })),
      nextSeq: maxBytes !== undefined && last ? last.seq + 1 : record.nextSeq,
      exited: !record.running,
      exitCode: record.exitCode,
      closed: record.closed,
      failure: null,
      sandboxDenied: this.sandboxDenied,
    };
  }

  /** Retained chunks after `afterSeq`, up to about `maxBytes`, for a watch to scan (unlike `read`, not a sign the client caught up; they may view the log: use them at once). */
  retained(afterSeq: number, maxBytes: number): RetainedChunk[] {
    return this.record.read(afterSeq, maxBytes);
  }

  write(writeId: string, bytes: Uint8Array, closeStdin = false): Promise<WriteStatus> {
    return this.stdin.write(writeId, bytes, this.running, closeStdin);
  }

  /** Extension `ptySize`: -32602 on a pipe process. */
  resizePty(size: PtySize): void {
    if (!this.tty) throw invalidParams(noTerminal(this.id));
    this.child.resize(checkPtySize(size));
  }

  /** `interrupt` (SIGINT) or, extension `signals`, any POSIX signal, to the process group; nothing once it has exited. */
  signal(value: SignalValue): void {
    if (this.running) this.child.signalGroup(toSystemSignal(value));
  }

  /** To the process group even after the program exited: a timeout's escalation must reach descendants holding its output. */
  signalGroup(signal: "SIGTERM" | "SIGKILL"): void {
    this.child.signalGroup(signal);
  }

  /** SIGKILL to the process group; true if the process was still running. */
  terminate(): boolean {
    if (!this.running) return false;
    this.child.signalGroup("SIGKILL");
    return true;
  }
}
