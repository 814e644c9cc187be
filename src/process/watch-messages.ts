/**
 * What the executor's event loop and the watch worker (watch-worker.ts) say
 * to each other. `key` names one process's set of watches, unique in the
 * executor; `id` one watch, unique in its process.
 */
import type { OutputStream } from "../protocol/messages/process.ts";

export type ToWatchWorker =
  /** Compile `pattern`; answered by `added` (with RE2's reason when it is not an RE2 pattern). */
  | { t: "add"; key: number; id: string; pattern: string; stream: OutputStream | null }
  /** An output chunk for the watches `ids` (each already filtered by stream); answered by `ack`. */
  | { t: "chunk"; key: number; ids: string[]; seq: number; stream: OutputStream; bytes: Uint8Array }
  /** The program exited with nothing held back: the unfinished lines of `ids` are matched as they are (they stay watched). */
  | { t: "flush"; key: number; ids: string[] }
  /** No more output for `ids`: their unfinished lines are matched, then they are gone; answered by `closed`. */
  | { t: "close"; key: number; ids: string[]; token: number }
  /** Watches removed without a last look (`process/unwatch`, or the process forgotten). */
  | { t: "remove"; key: number; ids: string[] };

export type FromWatchWorker =
  /** Listening: messages sent before this are lost. */
  | { t: "ready" }
  | { t: "added"; key: number; id: string; error: string | null }
  | { t: "ack"; key: number; bytes: number }
  | { t: "matched"; key: number; id: string; seq: number; stream: OutputStream; line: string }
  | { t: "closed"; key: number; token: number };

/** What the worker says about one process's watches (everything but `ready`). */
export type WatchReport = Exclude<FromWatchWorker, { t: "ready" }>;
