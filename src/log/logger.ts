/**
 * execbox's structured, leveled log: one line per event on stderr (stdout is
 * the URL line and, under `--listen stdio`, the protocol), as text or JSON.
 *
 * Cheap when off: `on(level)` is one comparison, and call sites that build
 * fields (per process, per request) check it first, so a disabled level
 * allocates nothing. Nothing secret is ever passed in: call sites log a
 * process's argv[0] but not its arguments or environment, an auth failure's
 * reason but no part of the token, a peer's address but no header.
 */

/** Most severe first: a logger at `info` writes error, warn and info. */
export const LOG_LEVELS = ["error", "warn", "info", "debug", "trace"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ["text", "json"] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export const DEFAULT_LOG_LEVEL: LogLevel = "info";
export const DEFAULT_LOG_FORMAT: LogFormat = "text";

/** A field's value: what JSON can carry as is. */
export type LogValue = string | number | boolean | null | undefined;
export type LogFields = Record<string, LogValue>;

const RANK: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3, trace: 4 };
/** Text lines pad the level so messages line up, as Rust's tracing does. */
const TEXT_LEVEL: Record<LogLevel, string> = { error: "ERROR", warn: " WARN", info: " INFO", debug: "DEBUG", trace: "TRACE" };

export class Logger {
  private threshold = RANK[DEFAULT_LOG_LEVEL];
  private format: LogFormat = DEFAULT_LOG_FORMAT;

  constructor(
    private readonly write: (line: string) => void = (line) => void process.stderr.write(line),
    private readonly now: () => Date = () => new Date(),
  ) {}

  configure(level: LogLevel, format: LogFormat): void {
    this.threshold = RANK[level];
    this.format = format;
  }

  /** Whether `level` is written: check it before building a line's fields. */
  on(level: LogLevel): boolean {
    return RANK[level] <= this.threshold;
  }

  error(msg: string, fields?: LogFields): void {
    this.log("error", msg, fields);
  }
  warn(msg: string, fields?: LogFields): void {
    this.log("warn", msg, fields);
  }
  info(msg: string, fields?: LogFields): void {
    this.log("info", msg, fields);
  }
  debug(msg: string, fields?: LogFields): void {
    this.log("debug", msg, fields);
  }
  trace(msg: string, fields?: LogFields): void {
    this.log("trace", msg, fields);
  }

  log(level: LogLevel, msg: string, fields?: LogFields): void {
    if (RANK[level] > this.threshold) return;
    const ts = this.now().toISOString();
    this.write(this.format === "json" ? jsonLine(ts, level, msg, fields) : textLine(ts, level, msg, fields));
  }
}

/** `{"ts":…,"level":…,"msg":…,…fields}`; fields never replace the three keys. Undefined fields are left out. */
export function jsonLine(ts: string, level: LogLevel, msg: string, fields?: LogFields): string {
  const entry: Record<string, LogValue> = { ts, level, msg };
  for (const key in fields) if (!(key in entry) && fields[key] !== undefined) entry[key] = fields[key];
  return `${JSON.stringify(entry)}\n`;
}

/** `TS LEVEL execbox: msg key=value …`; one line whatever the message holds. */
export function textLine(ts: string, level: LogLevel, msg: string, fields?: LogFields): string {
  let line = `${ts} ${TEXT_LEVEL[level]} execbox: ${oneLine(msg)}`;
  for (const key in fields) {
    const value = fields[key];
    if (value !== undefined) line += ` ${key}=${textValue(value)}`;
  }
  return `${line}\n`;
}

/** Bare when unambiguous, else JSON-quoted (spaces, quotes, `=`, control characters, empty). */
function textValue(value: Exclude<LogValue, undefined>): string {
  if (typeof value !== "string") return String(value);
  return /^[^\s"=\\\x00-\x1f\x7f]+$/.test(value) ? value : JSON.stringify(value);
}

function oneLine(text: string): string {
  return /[\r\n]/.test(text) ? text.replace(/\r/g, "\\r").replace(/\n/g, "\\n") : text;
}

/** The executor's log, configured once from `--log-level`, `--log-format` and RUST_LOG. */
export const log = new Logger();

/** A sink for modules that log plain lines (remote mode): each line is an info entry of `component`. */
export function componentLog(component: string): (line: string) => void {
  return (line) => log.info(line, { component });
}
