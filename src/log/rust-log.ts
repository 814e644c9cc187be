/**
 * `RUST_LOG`, as the reference (a Rust binary with tracing's EnvFilter) reads
 * it, reduced to the one level execbox logs at. Directives are separated by
 * commas: a bare level sets the default, `target=level` a target's. A target
 * applies to execbox when it is a prefix of `execbox` or of the reference's
 * crate `codex_exec_server` (EnvFilter matches target prefixes), so
 * `codex_exec_server=debug` and `codex=debug` both apply; the longest
 * matching target wins, else the bare level, else undefined (the default).
 * Span filters (`[span]`, `{field}`) are not ours and are skipped, as are
 * unreadable directives; `off` reads as `error` (failures are always shown).
 */
import { LOG_LEVELS, type LogLevel } from "./logger.ts";

/** The targets execbox answers to: its own name and the reference crate's. */
const OUR_TARGETS = ["execbox", "codex_exec_server"];

export function levelFromRustLog(value: string | undefined): LogLevel | undefined {
  if (!value) return undefined;
  let bare: LogLevel | undefined;
  let best: { length: number; level: LogLevel } | undefined;
  for (const raw of value.split(",")) {
    const directive = raw.trim();
    if (directive === "" || /[[{]/.test(directive)) continue;
    const eq = directive.lastIndexOf("=");
    if (eq === -1) {
      // A bare word is a level, or a target enabled at every level (`RUST_LOG=codex_exec_server`).
      const level = parseLevel(directive);
      if (level) bare = level;
      else if (applies(directive) && (!best || directive.length > best.length)) best = { length: directive.length, level: "trace" };
      continue;
    }
    const target = directive.slice(0, eq);
    const level = parseLevel(directive.slice(eq + 1));
    if (!level || !applies(target)) continue;
    if (!best || target.length >= best.length) best = { length: target.length, level };
  }
  return best?.level ?? bare;
}

function applies(target: string): boolean {
  return OUR_TARGETS.some((ours) => ours.startsWith(target));
}

function parseLevel(text: string): LogLevel | undefined {
  const lower = text.toLowerCase();
  if (lower === "off") return "error";
  return (LOG_LEVELS as readonly string[]).includes(lower) ? (lower as LogLevel) : undefined;
}
