/**
 * `--log-level` and `--log-format`, and RUST_LOG beneath them: the flag wins,
 * else what RUST_LOG says about execbox (src/log/rust-log.ts), else `info`.
 */
import { DEFAULT_LOG_FORMAT, DEFAULT_LOG_LEVEL, LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from "../log/logger.ts";
import { levelFromRustLog } from "../log/rust-log.ts";
import { UsageError } from "./listen.ts";

export type LogOptions = { level: LogLevel; format: LogFormat };

export class LogFlags {
  private level: LogLevel | undefined;
  private format: LogFormat = DEFAULT_LOG_FORMAT;

  /** Takes `flag` if it is a log flag; `value` reads its argument. A bad value is exit 2, as clap's. */
  take(flag: string, value: () => string): boolean {
    if (flag === "--log-level") this.level = oneOf(value(), LOG_LEVELS, "--log-level <LEVEL>");
    else if (flag === "--log-format") this.format = oneOf(value(), LOG_FORMATS, "--log-format <FORMAT>");
    else return false;
    return true;
  }

  finish(env: Record<string, string | undefined>): LogOptions {
    return { level: this.level ?? levelFromRustLog(env.RUST_LOG) ?? DEFAULT_LOG_LEVEL, format: this.format };
  }
}

function oneOf<T extends string>(value: string, allowed: readonly T[], display: string): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new UsageError(`invalid value '${value}' for '${display}' [possible values: ${allowed.join(", ")}]`, 2);
}
