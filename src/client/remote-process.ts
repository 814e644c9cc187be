/**
 * A process started through the client. Its events (output, exited, closed)
 * carry one seq counter; they are delivered to the iterator strictly in seq
 * order and exactly once, whether they were pushed as notifications or
 * fetched by a catch-up `process/read` after a reconnect.
 */
import { encodeBase64 } from "../protocol/base64.ts";
import type { OutputStream, ProcessReadResult, TerminalSize, WriteStatus } from "../protocol/messages/process.ts";
import type { SignalValue } from "../protocol/signals.ts";
import type { TimedOut } from "../protocol/messages/process-timeouts.ts";
import type { NotificationName, NotificationParams } from "../protocol/methods.ts";
import { AsyncQueue } from "./async-queue.ts";
import { ExecboxProtocolError } from "./errors.ts";
import { SKIP, SeqOrder } from "./seq-order.ts";

export type ProcessEvent =
  | { type: "output"; seq: number; stream: OutputStream; data: Uint8Array }
  /** `timedOut`: which of the start's timeouts ended it (extension `timeouts`), absent when none did. */
  | { type: "exited"; seq: number; exitCode: number; timedOut?: TimedOut }
  | { type: "closed"; seq: number }
  /**
   * `count` seqs could not be recovered after a reconnect: the executor had
   * already evicted that output from its retention window. Never emitted
   * while the connection holds.
   */
  | { type: "gap"; seq: number; count: number };

/** A catch-up `process/read` asks for at most this many bytes at once. */
export const CATCH_UP_READ_BYTES = 1024 * 1024;

/** What a process needs from its client. */
export interface ProcessHost {
  write(processId: string, chunkBase64: string, writeId: string): Promise<WriteStatus>;
  interrupt(processId: string): Promise<void>;
  closeStdin(processId: string, writeId: string): Promise<WriteStatus>;
  resize(processId: string, size: TerminalSize): Promise<void>;
  signal(processId: string, signal: SignalValue): Promise<void>;
  terminate(processId: string): Promise<boolean>;
  /** The process is closed or failed: stop routing its notifications. */
  forget(processId: string): void;
}

type ReadParams = { processId: string; afterSeq: number; maxBytes: number };

const noop = () => {};
const decode = (base64: string): Uint8Array => Buffer.from(base64, "base64");

export class RemoteProcess implements AsyncIterable<ProcessEvent> {
  /** Resolves with the exit code once `exited` is delivered. */
  readonly exited: Promise<number>;
  /** Resolves with the exit code once `closed` (the last event) is delivered. */
  readonly closed: Promise<number>;
  exitCode: number | null = null;
  /** Which timeout ended the process, once its `exited` says one did. */
  timedOut: TimedOut | null = null;
  /** Seqs reported lost in `gap` events. */
  lostSeqs = 0;
  /** @internal The start call succeeded: after a resume, the process is caught up. */
  started = false;
  private readonly queue = new AsyncQueue<ProcessEvent>();
  private readonly order = new SeqOrder<ProcessEvent>((e) => this.deliver(e));
  private settle!: { exit(code: number): void; close(code: number): void; fail(e: unknown): void };
  private finished = false;

  constructor(
    readonly id: string,
    private readonly host: ProcessHost,
  ) {
    let exitResolve!: (n: number) => void, exitReject!: (e: unknown) => void;
    let closeResolve!: (n: number) => void, closeReject!: (e: unknown) => void;
    this.exited = new Promise((res, rej) => ((exitResolve = res), (exitReject = rej)));
    this.closed = new Promise((res, rej) => ((closeResolve = res), (closeReject = rej)));
    // Nobody may be awaiting these; a failed client must not crash the program.
    this.exited.catch(noop);
    this.closed.catch(noop);
    this.settle = {
      exit: exitResolve,
      close: closeResolve,
      fail: (e) => (exitReject(e), closeReject(e)),
    };
  }

  [Symbol.asyncIterator](): AsyncIterator<ProcessEvent> {
    return this.queue[Symbol.asyncIterator]();
  }

  /** Writes to stdin (needs `pipeStdin` or `tty`); a reconnect re-sends it with the same writeId. */
  async write(data: Uint8Array | string): Promise<WriteStatus> {
    const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
    return this.host.write(this.id, encodeBase64(bytes), crypto.randomUUID());
  }

  /**
   * Ends the process's input (extension `closeStdin`): a pipe's stdin is
   * closed, so the command reads EOF; a PTY gets ^D. Later writes answer
   * `stdinClosed`. Rejects with ExecboxUnsupportedError, sending nothing,
   * where the executor lacks the extension.
   * @example await proc.write("a\nb\n"); await proc.closeStdin(); // wc -l prints 2
   */
  closeStdin(): Promise<WriteStatus> {
    return this.host.closeStdin(this.id, crypto.randomUUID());
  }

  /** A PTY's new size in cells (extension `ptySize`); the command gets SIGWINCH. */
  resize(size: TerminalSize): Promise<void> {
    return this.host.resize(this.id, size);
  }

  /**
   * A signal to the process group: `interrupt` anywhere, any POSIX name
   * (`"TERM"` or `"SIGTERM"`) with extension `signals`.
   * @example await proc.signal("TERM");
   */
  signal(signal: SignalValue): Promise<void> {
    return this.host.signal(this.id, signal);
  }

  /** SIGINT to the process. */
  interrupt(): Promise<void> {
    return this.host.interrupt(this.id);
  }

  /** SIGKILL to the process group; true if it was still running. */
  terminate(): Promise<boolean> {
    return this.host.terminate(this.id);
  }

  /** Consumes the events and returns all output per stream, and the exit code. */
  async collect(): Promise<{ stdout: Uint8Array; stderr: Uint8Array; pty: Uint8Array; exitCode: number }> {
    const parts: Record<OutputStream, Uint8Array[]> = { stdout: [], stderr: [], pty: [] };
    for await (const e of this) if (e.type === "output") parts[e.stream].push(e.data);
    const join = (list: Uint8Array[]) => Buffer.concat(list);
    return { stdout: join(parts.stdout), stderr: join(parts.stderr), pty: join(parts.pty), exitCode: await this.closed };
  }

  /** @internal A pushed notification for this process. */
  receive<N extends NotificationName>(method: N, params: NotificationParams<N>): void {
    const p = params as NotificationParams<"process/output"> & NotificationParams<"process/exited">;
    if (method === "process/output") this.order.push({ type: "output", seq: p.seq, stream: p.stream, data: decode(p.chunk) });
    else if (method === "process/exited") this.order.push({ type: "exited", seq: p.seq, exitCode: p.exitCode, ...(p.timedOut ? { timedOut: p.timedOut } : {}) });
    else if (method === "process/closed") this.order.push({ type: "closed", seq: p.seq });
  }

  /**
   * @internal After a resume: fetches what the executor kept since the last
   * delivered seq, in budgeted reads, until a read returns nothing new.
   * Pushed notifications arriving meanwhile merge in by seq.
   */
  async catchUp(read: (params: ReadParams) => Promise<ProcessReadResult>): Promise<void> {
    let after = this.order.delivered;
    while (!this.finished) {
      const r = await read({ processId: this.id, afterSeq: after, maxBytes: CATCH_UP_READ_BYTES });
      if (this.finished) return;
      if (r.chunks.length === 0) return this.fillHoles(r);
      for (const c of r.chunks) this.order.push({ type: "output", seq: c.seq, stream: c.stream, data: decode(c.chunk) });
      after = r.nextSeq - 1;
    }
  }

  /**
   * The last catch-up read returned no chunks, so its `nextSeq` is the
   * process's next unused seq, and every seq below it is either here or will
   * never come: `exited`/`closed` sent while detached are not replayed, and
   * output older than the retention window was evicted. `closed` is always
   * the last seq; an unseen exit takes the newest remaining hole (eviction
   * removes the oldest output); the rest is reported as a gap.
   */
  private fillHoles(r: ProcessReadResult): void {
    const holes = this.order.holesBelow(r.nextSeq);
    if (holes.length === 0) return;
    const closedSeq = r.closed ? r.nextSeq - 1 : undefined;
    const lost = holes.filter((s) => s !== closedSeq);
    const exitSeen = this.exitCode !== null || this.order.someWaiting((e) => e.type === "exited");
    const exitSeq = r.exited && !exitSeen ? lost.pop() : undefined;
    for (let i = 0; i < lost.length; ) {
      let end = i + 1;
      while (end < lost.length && lost[end] === lost[end - 1]! + 1) end++;
      this.order.fill(lost[i]!, { type: "gap", seq: lost[i]!, count: end - i });
      for (let k = i + 1; k < end; k++) this.order.fill(lost[k]!, SKIP);
      i = end;
    }
    if (exitSeq !== undefined) this.order.fill(exitSeq, { type: "exited", seq: exitSeq, exitCode: r.exitCode ?? -1 });
    if (closedSeq !== undefined && holes.includes(closedSeq)) this.order.fill(closedSeq, { type: "closed", seq: closedSeq });
  }

  /** @internal The client failed or closed: the iterator and the promises reject. */
  fail(error: unknown): void {
    if (this.finished) return;
    this.finished = true;
    this.queue.fail(error);
    this.settle.fail(error);
    this.host.forget(this.id);
  }

  private deliver(event: ProcessEvent): void {
    if (this.finished) return;
    if (event.type === "gap") this.lostSeqs += event.count;
    if (event.type === "exited") {
      this.exitCode = event.exitCode;
      this.timedOut = event.timedOut ?? null;
      this.settle.exit(event.exitCode);
    }
    this.queue.push(event);
    if (event.type !== "closed") return;
    this.finished = true;
    this.queue.end();
    if (this.exitCode !== null) this.settle.close(this.exitCode);
    else this.settle.fail(new ExecboxProtocolError(`process ${this.id} closed without an exit status`));
    this.host.forget(this.id);
  }
}
