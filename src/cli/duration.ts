/**
 * `--timeout DURATION` of `execbox exec`: a number with a unit, `1500ms`,
 * `30s`, `5m`, `2h`, or a bare number of seconds (as GNU timeout reads it).
 * The result is whole milliseconds, within what the executor accepts
 * (src/process/run-timeouts.ts); anything else is a usage error (exit 2).
 */
import { MAX_RUN_TIMEOUT_MS, MIN_RUN_TIMEOUT_MS } from "../process/run-timeouts.ts";
import { UsageError } from "./listen.ts";

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

export function parseDuration(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text);
  const ms = m ? Math.round(Number(m[1]) * UNIT_MS[m[2] ?? "s"]!) : Number.NaN;
  if (!(ms >= MIN_RUN_TIMEOUT_MS && ms <= MAX_RUN_TIMEOUT_MS)) {
    throw new UsageError(`invalid value '${text}' for '${flag}': expected a duration from 1ms to 168h, like 1500ms, 30s, 5m or 2h`, 2);
  }
  return ms;
}
