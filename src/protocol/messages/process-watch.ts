/**
 * Output watches (extension `outputWatch`): the executor matches a process's
 * output, line by line, against a pattern and sends one
 * `process/watchMatched` for the first line that matches, so an idle
 * orchestrator is woken without streaming everything. Semantics and bounds:
 * src/process/output-watch.ts.
 */
import { z } from "zod";
import { lazy, opt, str, struct, u64, variant } from "../serde.ts";
import { OutputStream } from "./process.ts";

export const ProcessWatchParams = lazy(() =>
  struct("WatchParams", {
    processId: str(),
    /** An RE2 regular expression (no backreferences or lookaround), matched against each line without its line ending. */
    pattern: str(),
    /** Only this stream's lines; absent: every stream. */
    stream: opt(variant(["stdout", "stderr", "pty"])),
    /** Also match the retained output after this seq (0: all of it); absent: only output from now on. */
    afterSeq: opt(u64()),
  }),
);
export type ProcessWatchParams = z.infer<typeof ProcessWatchParams>;
export const ProcessWatchResult = lazy(() => z.object({ watchId: z.string() }));

export const ProcessUnwatchParams = lazy(() => struct("UnwatchParams", { processId: str(), watchId: str() }));
/** `removed: false`: no such watch (it matched already, or never existed). */
export const ProcessUnwatchResult = lazy(() => z.object({ removed: z.boolean() }));

export const ProcessWatchMatchedNotification = lazy(() =>
  z.object({
    processId: z.string(),
    watchId: z.string(),
    /** The output chunk holding the line's last byte (its newline, or the byte that reached the line cap). */
    seq: z.number(),
    stream: OutputStream,
    /** The line as matched: without `\n` (and a `\r` before it), cut at the line cap, decoded as UTF-8. */
    line: z.string(),
  }),
);
export type ProcessWatchMatched = z.infer<typeof ProcessWatchMatchedNotification>;
