/**
 * `process/list` (extension `processList`, src/protocol/extensions.ts): the
 * session's processes, so a client that reconnects with `resumeSessionId`
 * can find what it left running. Times are milliseconds since the Unix epoch
 * (`startedAtMs`, as Codex's app-server names its times).
 */
import { z } from "zod";
import { lazy } from "../serde.ts";

export const ProcessState = lazy(() => z.enum(["running", "exited", "closed"]));
export type ProcessState = z.infer<typeof ProcessState>;

export const ProcessListEntry = lazy(() =>
  z.object({
    processId: z.string(),
    argv: z.array(z.string()),
    /** The spawned program's pid (under a sandbox: its wrapper's). */
    pid: z.number(),
    tty: z.boolean(),
    /** `exited`: the program ended, a descendant still holds its output open; `closed`: all output is in. */
    state: ProcessState,
    exitCode: z.number().nullable(),
    startedAtMs: z.number(),
    exitedAtMs: z.number().nullable(),
    /** Output bytes produced so far (stdout, stderr and PTY). */
    bytesOut: z.number(),
  }),
);
export type ProcessListEntry = z.infer<typeof ProcessListEntry>;

/** In start order; a closed process is listed until its retention ends (`--exited-process-retention-ms`). */
export const ProcessListResult = lazy(() => z.object({ processes: z.array(ProcessListEntry) }));
export type ProcessListResult = z.infer<typeof ProcessListResult>;
