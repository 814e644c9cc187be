/**
 * The watches on one process's output (`process/watch`), as the event loop
 * keeps them; the matching itself runs in the watch worker (watch-matcher.ts,
 * which says how lines are cut and matched). A watch that starts from
 * retained output (`afterSeq`) first reads the process's log from its cursor,
 * then joins the live output; a watch reports its first matching line once,
 * then is gone. When the program exits with no output held back, unfinished
 * lines are matched as they are (a prompt a daemonizing program printed
 * while a descendant keeps its output open); with output held back they are
 * not, as the rest of such a line may still be unread. Once the process has
 * closed, every watch gets a last look at its unfinished lines and is
 * dropped, and `process/closed` waits for that, so a client that sees
 * `closed` has seen every match.
 *
 * Bounded: at most WATCH_BACKLOG_BYTES of output wait for the worker per
 * process, and a watch still reading retained output holds the process's
 * new output (so the log cannot evict what it has not read). A slow pattern
 * thus slows its own process's output, never the event loop other sessions
 * share.
 */
import type { OutputStream } from "../protocol/messages/process.ts";
import type { ProcessWatchMatched } from "../protocol/messages/process-watch.ts";
import { internalError, invalidParams, invalidRequest } from "../protocol/errors.ts";
import type { RetainedChunk } from "./output-log.ts";
import type { WatchEngine, WatchPeer } from "./watch-engine.ts";
import type { ToWatchWorker, WatchReport } from "./watch-messages.ts";

export { MAX_WATCH_LINE_BYTES } from "./watch-matcher.ts";
/** Watches on one process at once; one more is -32600. Each costs a pass over every output byte. */
export const MAX_WATCHES_PER_PROCESS = 16;
/** Watches in one session at once, across its processes; one more is -32600. */
export const MAX_WATCHES_PER_SESSION = 64;
/**
 * Output bytes of one process sent to the watch worker and not yet matched
 * before the process's output is held. Ordinary patterns match 30–170 MB/s,
 * so 256 KiB is a few ms of work and a healthy watch never holds output;
 * a hostile one (~5 µs a byte, times 16 watches) is held to ~20 s of queued
 * work, which is also the most its process's `closed` can wait for matching.
 */
export const WATCH_BACKLOG_BYTES = 256 * 1024;

export type WatchMatch = Omit<ProcessWatchMatched, "processId">;
/** The process's retained chunks after `afterSeq`, up to about `maxBytes` (at least one). */
export type LogReader = (afterSeq: number, maxBytes: number) => RetainedChunk[];

type Phase = "backfill" | "live" | "finishing";
type Watch = { readonly stream: OutputStream | null; phase: Phase; cursor: number };
type Pending = { resolve: () => void; reject: (e: Error) => void };

export class OutputWatches implements WatchPeer {
  private readonly watches = new Map<string, Watch>();
  private readonly adding = new Map<string, Pending>();
  private readonly closing = new Map<number, string[]>();
  private key: number | null = null;
  private lastId = 0;
  private lastToken = 0;
  private backlog = 0;
  private processClosed = false;
  private waiting: { promise: Promise<void>; resolve: () => void } | null = null;
  private settledWaiters: (() => void)[] = [];

  constructor(
    private readonly engine: WatchEngine,
    private readonly readLog: LogReader,
    private readonly matched: (match: WatchMatch) => void,
  ) {}

  /** Watches that may still match (finishing ones do not count: their process has closed). */
  get size(): number {
    let n = 0;
    for (const w of this.watches.values()) if (w.phase !== "finishing") n++;
    return n;
  }

  /** Adds a watch; with `afterSeq`, it first reads the retained output after it. Rejects with RE2's reason for a bad pattern. */
  async add(pattern: string, stream: OutputStream | null, afterSeq: number | null): Promise<string> {
    if (this.size >= MAX_WATCHES_PER_PROCESS) {
      throw invalidRequest(`process/watch refused: this process already has ${MAX_WATCHES_PER_PROCESS} watches, the most it may have at once`);
    }
    const id = `w${++this.lastId}`;
    this.watches.set(id, { stream, phase: afterSeq === null ? "live" : "backfill", cursor: afterSeq ?? 0 });
    const added = new Promise<void>((resolve, reject) => this.adding.set(id, { resolve, reject }));
    this.post({ t: "add", key: this.keyed(), id, pattern, stream });
    this.backfill();
    if (this.processClosed && this.watches.get(id)?.phase === "live") this.finish([id]);
    await added;
    return id;
  }

  remove(id: string): boolean {
    const watch = this.watches.get(id);
    if (!watch || watch.phase === "finishing" || this.adding.has(id)) return false;
    this.watches.delete(id);
    this.post({ t: "remove", key: this.keyed(), ids: [id] });
    return true;
  }

  /** A new output chunk (lent: valid during the call): to the live watches of its stream. */
  feed(seq: number, stream: OutputStream, bytes: Uint8Array): void {
    const ids = this.live((w) => w.stream === null || w.stream === stream);
    if (ids.length > 0) this.sendChunk(ids, { seq, stream, bytes });
  }

  /** While output must wait: the worker is behind, or a watch is still reading retained output. */
  hold(): Promise<void> | undefined {
    if (!this.mustHold()) return undefined;
    if (!this.waiting) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.waiting = { promise, resolve };
    }
    return this.waiting.promise;
  }

  /** The program exited; `heldElsewhere`: the consumer holds output back too. Unfinished lines are matched unless output may still be unread. */
  exited(heldElsewhere: boolean): void {
    if (heldElsewhere || this.mustHold()) return;
    const ids = this.live(() => true);
    if (ids.length > 0) this.post({ t: "flush", key: this.keyed(), ids });
  }

  /** All output is in: each watch gets its last look. Settles once every match has been reported (undefined: at once). */
  close(): Promise<void> | undefined {
    this.processClosed = true;
    const ids = this.live(() => true);
    if (ids.length > 0) this.finish(ids);
    if (this.watches.size === 0) return undefined;
    return new Promise((resolve) => this.settledWaiters.push(resolve));
  }

  /** The process is forgotten (its log is gone): every watch is dropped unmatched. */
  dispose(): void {
    if (this.key !== null && this.watches.size > 0) this.post({ t: "remove", key: this.key, ids: [...this.watches.keys()] });
    this.watches.clear();
    this.reset(internalError("the process was forgotten while its watch was being added"));
  }

  // --- from the worker ---

  receive(m: WatchReport): void {
    if (m.t === "added") return this.added(m.id, m.error);
    if (m.t === "matched") {
      if (!this.watches.delete(m.id)) return;
      this.matched({ watchId: m.id, seq: m.seq, stream: m.stream, line: m.line });
    } else if (m.t === "ack") {
      this.backlog -= m.bytes;
      this.backfill();
    } else {
      for (const id of this.closing.get(m.token) ?? []) if (this.watches.get(id)?.phase === "finishing") this.watches.delete(id);
      this.closing.delete(m.token);
    }
    this.settle();
  }

  lost(): void {
    this.key = null;
    this.watches.clear();
    this.reset(internalError("the watch worker stopped; the watch is gone"));
  }

  // --- internals ---

  private added(id: string, error: string | null): void {
    const pending = this.adding.get(id);
    this.adding.delete(id);
    if (error === null) return pending?.resolve();
    this.watches.delete(id);
    pending?.reject(invalidParams(error));
    this.settle();
  }

  /** Reads retained output for watches that are behind, while the worker's backlog allows. */
  private backfill(): void {
    for (const [id, w] of this.watches) {
      while (w.phase === "backfill" && this.backlog < WATCH_BACKLOG_BYTES) {
        const chunks = this.readLog(w.cursor, WATCH_BACKLOG_BYTES - this.backlog);
        if (chunks.length === 0) {
          w.phase = "live";
          if (this.processClosed) this.finish([id]);
          break;
        }
        for (const c of chunks) {
          if (w.stream === null || w.stream === c.stream) this.sendChunk([id], c);
          w.cursor = c.seq;
        }
      }
    }
  }

  private sendChunk(ids: string[], c: RetainedChunk): void {
    // A copy of its own, handed over: `c.bytes` may view a larger buffer (the log's ring, a read's pool), which a
    // clone would copy whole and a transfer would take away. (Not `slice()`: on a Buffer that is a view.)
    const bytes = new Uint8Array(c.bytes);
    this.backlog += bytes.byteLength;
    this.engine.post({ t: "chunk", key: this.keyed(), ids, seq: c.seq, stream: c.stream, bytes }, [bytes.buffer]);
  }

  private finish(ids: string[]): void {
    const token = ++this.lastToken;
    for (const id of ids) this.watches.get(id)!.phase = "finishing";
    this.closing.set(token, ids);
    this.post({ t: "close", key: this.keyed(), ids, token });
  }

  private live(filter: (w: Watch) => boolean): string[] {
    const ids: string[] = [];
    for (const [id, w] of this.watches) if (w.phase === "live" && filter(w)) ids.push(id);
    return ids;
  }

  private mustHold(): boolean {
    if (this.backlog >= WATCH_BACKLOG_BYTES) return true;
    for (const w of this.watches.values()) if (w.phase === "backfill") return true;
    return false;
  }

  private post(m: ToWatchWorker): void {
    this.engine.post(m);
  }

  private keyed(): number {
    if (this.key === null) this.key = this.engine.register(this);
    return this.key;
  }

  /** Releases held output, settles `close`, and leaves the engine once nothing is in flight. */
  private settle(): void {
    if (this.waiting && !this.mustHold()) {
      this.waiting.resolve();
      this.waiting = null;
    }
    if (this.watches.size > 0 || this.adding.size > 0) return;
    for (const resolve of this.settledWaiters.splice(0)) resolve();
    if (this.backlog === 0 && this.closing.size === 0 && this.key !== null) {
      this.engine.unregister(this.key);
      this.key = null;
    }
  }

  private reset(reason: Error): void {
    for (const pending of this.adding.values()) pending.reject(reason);
    this.adding.clear();
    this.closing.clear();
    this.backlog = 0;
    this.settle();
    if (this.key !== null) this.engine.unregister(this.key);
    this.key = null;
  }
}
