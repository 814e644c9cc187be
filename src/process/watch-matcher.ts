/**
 * The matching half of output watches, run in the watch worker: each watch
 * has its own line splitter per stream, so a watch that starts from retained
 * output and one that starts now each see whole lines. A watch reports its
 * first matching line once, then is gone.
 *
 * Work is queued per process and done round robin, in steps of at most
 * MATCH_STEP_BYTES per watch, so one process's expensive watches delay
 * another's by a step, not by their whole backlog.
 */
import type { OutputStream } from "../protocol/messages/process.ts";
import { LineSplitter } from "./line-splitter.ts";
import { compileWatchPattern, type WatchPattern } from "./watch-pattern.ts";
import type { FromWatchWorker, ToWatchWorker } from "./watch-messages.ts";

/**
 * Longest line a watch matches; the rest of a longer line is not looked at.
 * Log lines and prompts fit easily; the cap bounds the bytes held per watch
 * and stream, and the time one line can cost (its length × the program size).
 */
export const MAX_WATCH_LINE_BYTES = 4096;
/**
 * Bytes of one chunk matched for one watch before the worker turns to other
 * processes' work. One line's match is the smallest unit (up to ~0.3 s for
 * the largest program on a 4 KiB line); a step of one line's worth keeps a
 * turn near that.
 */
export const MATCH_STEP_BYTES = MAX_WATCH_LINE_BYTES;

type Watch = {
  readonly pattern: WatchPattern;
  /** Per stream: its unfinished line and the seq of its newest chunk. */
  readonly lines: Map<OutputStream, { splitter: LineSplitter; seq: number }>;
};

type Task = ToWatchWorker & { t: "chunk" | "flush" | "close" | "remove" };
/** A chunk being matched: which watch, and how far into its bytes. */
type Progress = { watch: number; at: number };

const decoder = new TextDecoder();

/** One process's watches and its queue of work. */
class ProcessWatches {
  readonly watches = new Map<string, Watch>();
  readonly queue: Task[] = [];
  progress: Progress = { watch: 0, at: 0 };

  constructor(
    readonly key: number,
    private readonly send: (m: FromWatchWorker) => void,
  ) {}

  /** Does at most about one step of work; false when the queue is empty. */
  step(): boolean {
    const task = this.queue[0];
    if (!task) return false;
    if (task.t === "chunk") {
      if (!this.stepChunk(task)) return true;
      this.send({ t: "ack", key: this.key, bytes: task.bytes.byteLength });
    } else if (task.t === "flush") {
      for (const id of task.ids) this.flush(id);
    } else if (task.t === "close") {
      for (const id of task.ids) {
        this.flush(id);
        this.watches.delete(id);
      }
      this.send({ t: "closed", key: this.key, token: task.token });
    } else {
      for (const id of task.ids) this.watches.delete(id);
    }
    this.queue.shift();
    this.progress = { watch: 0, at: 0 };
    return this.queue.length > 0;
  }

  /** One step of a chunk for one watch; true once every watch has seen all of it. */
  private stepChunk(task: Task & { t: "chunk" }): boolean {
    const p = this.progress;
    const id = task.ids[p.watch];
    if (id === undefined) return true;
    const watch = this.watches.get(id);
    const end = Math.min(task.bytes.byteLength, p.at + MATCH_STEP_BYTES);
    let done = true;
    if (watch) {
      let state = watch.lines.get(task.stream);
      if (!state) watch.lines.set(task.stream, (state = { splitter: new LineSplitter(MAX_WATCH_LINE_BYTES), seq: task.seq }));
      state.seq = task.seq;
      const matched = state.splitter.push(task.bytes.subarray(p.at, end), (line) => this.test(id, watch, task.seq, task.stream, line));
      done = matched || end === task.bytes.byteLength;
    }
    if (done) this.progress = { watch: p.watch + 1, at: 0 };
    else p.at = end;
    return this.progress.watch >= task.ids.length;
  }

  private flush(id: string): void {
    const watch = this.watches.get(id);
    if (!watch) return;
    for (const [stream, state] of watch.lines) {
      if (state.splitter.flush((line) => this.test(id, watch, state.seq, stream, line))) return;
    }
  }

  /** True (and the watch is over) when `line` matches. */
  private test(id: string, watch: Watch, seq: number, stream: OutputStream, bytes: Uint8Array): boolean {
    let line = decoder.decode(bytes);
    if (line.endsWith("\r")) line = line.slice(0, -1);
    if (!watch.pattern.test(line)) return false;
    this.watches.delete(id);
    this.send({ t: "matched", key: this.key, id, seq, stream, line });
    return true;
  }
}

/** Every process's watches in the worker; `receive` takes messages, `work` does queued matching. */
export class WatchMatcher {
  private readonly procs = new Map<number, ProcessWatches>();
  /** Round-robin order of processes with queued work. */
  private readonly busy: ProcessWatches[] = [];

  constructor(private readonly send: (m: FromWatchWorker) => void) {}

  receive(m: ToWatchWorker): void {
    let proc = this.procs.get(m.key);
    if (!proc) this.procs.set(m.key, (proc = new ProcessWatches(m.key, this.send)));
    if (m.t === "add") {
      // At once, ahead of queued matching: the client waits for the answer.
      try {
        proc.watches.set(m.id, { pattern: compileWatchPattern(m.pattern), lines: new Map() });
        this.send({ t: "added", key: m.key, id: m.id, error: null });
      } catch (e) {
        this.send({ t: "added", key: m.key, id: m.id, error: (e as Error).message });
        if (proc.watches.size === 0 && proc.queue.length === 0) this.procs.delete(m.key);
      }
      return;
    }
    if (proc.queue.length === 0) this.busy.push(proc);
    proc.queue.push(m);
  }

  /** True while work is queued. Does steps round robin until `budgetMs` has passed. */
  work(budgetMs: number): boolean {
    const until = performance.now() + budgetMs;
    while (this.busy.length > 0) {
      const proc = this.busy.shift()!;
      if (proc.step()) this.busy.push(proc);
      else if (proc.watches.size === 0) this.procs.delete(proc.key);
      if (performance.now() >= until) break;
    }
    return this.busy.length > 0;
  }
}
