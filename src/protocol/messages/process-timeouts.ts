/**
 * Run-time bounds on `process/start` (extension `timeouts`): `timeoutMs`
 * (Codex's app-server name) ends the process that long after it started,
 * `idleTimeoutMs` once it has produced no output for that long. Either ends
 * it by SIGTERM to its process group, then SIGKILL after a grace
 * (src/process/run-timeouts.ts); its `process/exited` then carries
 * `timedOut`, which is absent when no timeout fired (the reference's shape).
 */
import { z } from "zod";
import { lazy, opt, u64 } from "../serde.ts";

export const RunTimeoutFields = {
  timeoutMs: opt(u64()),
  idleTimeoutMs: opt(u64()),
};

export const TimedOut = lazy(() => z.enum(["timeout", "idle"]));
export type TimedOut = z.infer<typeof TimedOut>;
