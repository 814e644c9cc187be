/**
 * The watches on one process's output (`process/watch`). Each has its own
 * line splitter per stream, so a watch that starts from retained output
 * (`afterSeq`) and one that starts now each see whole lines. A watch reports
 * its first matching line once, then is gone. Lines still unfinished when
 * the process exits or closes are matched as they are; once it has closed,
 * no watch can match any more and all are dropped (freeing their slots).
 *
 * Cost is linear in output bytes: a line is at most MAX_WATCH_LINE_BYTES,
 * a pattern's program at most MAX_WATCH_PROGRAM_SIZE (watch-pattern.ts), and
 * a process has at most MAX_WATCHES_PER_PROCESS watches. Its constant is not
 * bounded: a hostile pattern costs ~7 µs a byte per watch, run synchronously
 * (watch-pattern.ts), including the whole `afterSeq` scan in one go.
 */
import type { OutputStream } from "../protocol/messages/process.ts";
import type { ProcessWatchMatched } from "../protocol/messages/process-watch.ts";
import { invalidRequest } from "../protocol/errors.ts";
import { LineSplitter } from "./line-splitter.ts";
import type { RetainedChunk } from "./output-log.ts";
import type { WatchPattern } from "./watch-pattern.ts";

/**
 * Longest line a watch matches; the rest of a longer line is not looked at.
 * Log lines and prompts fit easily; the cap bounds the bytes held per watch
 * and stream, and the time one line can cost (its length × the program size).
 */
export const MAX_WATCH_LINE_BYTES = 4096;
/** Watches on one process at once; one more is -32600. Each costs a pass over every output byte. */
export const MAX_WATCHES_PER_PROCESS = 16;
/** Watches in one session at once, across its processes; one more is -32600. */
export const MAX_WATCHES_PER_SESSION = 64;

export type WatchMatch = Omit<ProcessWatchMatched, "processId">;

type Watch = {
  readonly id: string;
  readonly pattern: WatchPattern;
  readonly stream: OutputStream | null;
  /** Per stream: its unfinished line and the seq of its newest chunk. */
  readonly lines: Map<OutputStream, { splitter: LineSplitter; seq: number }>;
};

const decoder = new TextDecoder();

export class OutputWatches {
  private readonly watches = new Map<string, Watch>();
  private lastId = 0;

  constructor(private readonly matched: (match: WatchMatch) => void) {}

  get size(): number {
    return this.watches.size;
  }

  /** Adds a watch, first matching it against `retained` (chunks in seq order); returns its id. */
  add(pattern: WatchPattern, stream: OutputStream | null, retained: RetainedChunk[]): string {
    if (this.watches.size >= MAX_WATCHES_PER_PROCESS) {
      throw invalidRequest(`process/watch refused: this process already has ${MAX_WATCHES_PER_PROCESS} watches, the most it may have at once`);
    }
    const watch: Watch = { id: `w${++this.lastId}`, pattern, stream, lines: new Map() };
    this.watches.set(watch.id, watch);
    for (const c of retained) if (this.feedOne(watch, c.seq, c.stream, c.bytes)) break;
    return watch.id;
  }

  remove(id: string): boolean {
    return this.watches.delete(id);
  }

  /** A new output chunk (lent: valid during the call). */
  feed(seq: number, stream: OutputStream, bytes: Uint8Array): void {
    for (const watch of this.watches.values()) this.feedOne(watch, seq, stream, bytes);
  }

  /** The streams ended (or the program exited): unfinished lines are matched as they are. */
  flush(): void {
    for (const watch of this.watches.values()) {
      for (const [stream, state] of watch.lines) {
        if (state.splitter.flush((line) => this.test(watch, state.seq, stream, line))) break;
      }
    }
  }

  /** All output is in: the last lines are matched, then every watch is gone. */
  close(): void {
    this.flush();
    this.watches.clear();
  }

  private feedOne(watch: Watch, seq: number, stream: OutputStream, bytes: Uint8Array): boolean {
    if (watch.stream !== null && watch.stream !== stream) return false;
    let state = watch.lines.get(stream);
    if (!state) watch.lines.set(stream, (state = { splitter: new LineSplitter(MAX_WATCH_LINE_BYTES), seq }));
    state.seq = seq;
    return state.splitter.push(bytes, (line) => this.test(watch, seq, stream, line));
  }

  /** True (and the watch is over) when `line` matches. */
  private test(watch: Watch, seq: number, stream: OutputStream, bytes: Uint8Array): boolean {
    let line = decoder.decode(bytes);
    if (line.endsWith("\r")) line = line.slice(0, -1);
    if (!watch.pattern.test(line)) return false;
    this.watches.delete(watch.id);
    this.matched({ watchId: watch.id, seq, stream, line });
    return true;
  }
}
