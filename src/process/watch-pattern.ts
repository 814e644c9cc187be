/**
 * A watch's pattern, compiled for a bounded cost. JavaScript's RegExp
 * backtracks and has no timeout: measured on Bun 1.4.5, `.*a.*b` on one
 * 4 KiB line of `a` takes 9 s, blocking every session of the executor. So
 * watches use RE2's linear-time engine (re2js, pure JavaScript): the time to
 * match a line is bounded by its length times the compiled program's size,
 * whatever the pattern; nested quantifiers like `(a+)+$` are as cheap as any.
 * RE2 has no backreferences or lookaround (they need backtracking): such a
 * pattern is refused with -32602 and RE2's own reason. The pattern's length
 * and its program's size are capped, so compiling stays in the milliseconds.
 * Matching is linear but not cheap: a pattern whose lazy DFA keeps running
 * out of states, like `a[ab]{100}$` (104 instructions), costs ~5 µs a byte
 * of random `a`/`b` lines of 1 KiB or more (measured on Bun 1.4.5, re2js
 * 2.10; the cost grows with the program), so matching runs in the watch
 * worker, off the event loop (output-watch.ts).
 */
import { RE2JS } from "re2js";
import { invalidParams } from "../protocol/errors.ts";

/**
 * Longest pattern, in UTF-16 code units. A watch looks for an error text or a
 * prompt; 512 leaves room for long alternations while keeping compilation
 * (which grows with the pattern) well under 100 ms.
 */
export const MAX_WATCH_PATTERN_LENGTH = 512;
/**
 * Largest compiled program (RE2 instructions). 2000 instructions hold any
 * practical pattern (`x{0,500}` is ~1000); a line's NFA steps are at most its
 * length times this (the time per line is dominated by DFA state churn
 * instead: see above).
 */
export const MAX_WATCH_PROGRAM_SIZE = 2_000;

export type WatchPattern = { test(line: string): boolean };

export function compileWatchPattern(pattern: string): WatchPattern {
  if (pattern.length > MAX_WATCH_PATTERN_LENGTH) {
    throw invalidParams(`watch pattern is ${pattern.length} characters long, more than ${MAX_WATCH_PATTERN_LENGTH}`);
  }
  let re: RE2JS;
  try {
    re = RE2JS.compile(pattern);
  } catch (e) {
    throw invalidParams(`watch pattern is not an RE2 regular expression (no backreferences or lookaround): ${(e as Error).message}`);
  }
  const size = re.programSize();
  if (size > MAX_WATCH_PROGRAM_SIZE) {
    throw invalidParams(`watch pattern compiles to ${size} instructions, more than ${MAX_WATCH_PROGRAM_SIZE}`);
  }
  return { test: (line) => re.test(line) };
}
