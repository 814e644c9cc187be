/**
 * The client side of execbox's process extensions (src/protocol/extensions.ts):
 * `process/list`, `process/watch` and the start's timeouts. Each is checked
 * against the executor's advertised `extensions` first: against one without
 * it (the reference) the call fails at once with ExecboxUnsupportedError
 * instead of being ignored (a timeout the executor never applies) or refused
 * with a bare -32601.
 */
import { type ExtensionName, supportsExtension } from "../protocol/extensions.ts";
import type { EnvironmentInfo } from "../protocol/messages/environment.ts";
import type { OutputStream } from "../protocol/messages/process.ts";
import type { ProcessListEntry } from "../protocol/messages/process-list.ts";
import { type ProcessWatchMatched, ProcessWatchMatchedNotification } from "../protocol/messages/process-watch.ts";
import type { ExecboxClient } from "./client.ts";
import { ExecboxUnsupportedError } from "./errors.ts";

export function requireExtension(info: EnvironmentInfo | undefined, extension: ExtensionName, what: string): void {
  if (!supportsExtension(info, extension)) throw new ExecboxUnsupportedError(extension, what);
}

/** Throws unless the executor applies the timeouts a start asks for. */
export function checkStartExtensions(info: EnvironmentInfo, params: { timeoutMs?: number | null; idleTimeoutMs?: number | null }): void {
  if (params.timeoutMs != null || params.idleTimeoutMs != null) requireExtension(info, "timeouts", "a process timeout (timeoutMs, idleTimeoutMs)");
}

export async function listProcesses(client: ExecboxClient): Promise<ProcessListEntry[]> {
  requireExtension(client.environmentInfo, "processList", "process/list");
  return (await client.call("process/list")).processes;
}

export type WatchOptions = { stream?: OutputStream; afterSeq?: number };
export type WatchMatch = Omit<ProcessWatchMatched, "processId" | "watchId">;
export type OutputWatch = {
  readonly watchId: string;
  /** Settles with the first matching line; never, if none matches (call `unwatch`). */
  readonly matched: Promise<WatchMatch>;
  /** Removes the watch; false if it had already matched or its process closed. */
  unwatch(): Promise<boolean>;
};

/**
 * `process/watch`. A match can arrive before the answer (a scan of retained
 * output with `afterSeq`), so matches for the process are collected from
 * before the call is sent.
 */
export async function watchOutput(client: ExecboxClient, processId: string, pattern: string, options: WatchOptions = {}): Promise<OutputWatch> {
  requireExtension(client.environmentInfo, "outputWatch", "process/watch");
  let watchId: string | undefined;
  const early: ProcessWatchMatched[] = [];
  let settle!: (m: WatchMatch) => void;
  const matched = new Promise<WatchMatch>((resolve) => (settle = resolve));
  const done = (m: ProcessWatchMatched) => {
    off();
    settle({ seq: m.seq, stream: m.stream, line: m.line });
  };
  const off = client.on("notification", (method, params) => {
    if (method !== "process/watchMatched") return;
    const parsed = ProcessWatchMatchedNotification.safeParse(params);
    if (!parsed.success || parsed.data.processId !== processId) return;
    if (watchId === undefined) early.push(parsed.data);
    else if (parsed.data.watchId === watchId) done(parsed.data);
  });
  try {
    watchId = (await client.call("process/watch", { processId, pattern, ...options })).watchId;
  } catch (e) {
    off();
    throw e;
  }
  const id = watchId;
  const first = early.find((m) => m.watchId === id);
  if (first) done(first);
  return {
    watchId: id,
    matched,
    unwatch: async () => {
      off();
      return (await client.call("process/unwatch", { processId, watchId: id })).removed;
    },
  };
}
