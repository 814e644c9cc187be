/**
 * Numbers as the reference reads them. It keeps every JSON number as its
 * source text until a field asks for an integer, so `1e2`, `7.0` or
 * 18446744073709551616 given where a u64 is expected are `invalid number` —
 * while `JSON.parse` would hand over 100, 7 and 2^64 rounded down to fit.
 * Messages whose numbers are all plain integers in u64 range (nearly all of
 * them) are parsed once, as usual; otherwise the other numbers become NaN,
 * which every integer field reports as `invalid number`.
 */

const U64_MAX = 2n ** 64n - 1n;
/** A plain integer literal: what serde reads as an integer. */
const INTEGER = /^-?(0|[1-9][0-9]*)$/;
/** One JSON number token, starting at `lastIndex`. */
const NUMBER_TOKEN = /-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;

export function parseWireJson(text: string): unknown {
  const value: unknown = JSON.parse(text);
  return hasInexactNumber(text) ? JSON.parse(text, markInexact) : value;
}

/** Keeps integers it can hold exactly (or that are negative: those fail on their own); NaN for the rest. */
function markInexact(this: unknown, _key: string, value: unknown, context?: { source?: string }): unknown {
  if (typeof value !== "number" || context?.source === undefined) return value;
  return isExact(context.source) ? value : Number.NaN;
}

function isExact(source: string): boolean {
  if (!INTEGER.test(source)) return false;
  return source.startsWith("-") || source.length < 20 || BigInt(source) <= U64_MAX;
}

/** Scans the (valid) JSON for a number that is not an exact integer, skipping strings whole. */
function hasInexactNumber(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      i = stringEnd(text, i);
    } else if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) {
      NUMBER_TOKEN.lastIndex = i;
      const token = NUMBER_TOKEN.exec(text)![0];
      if (!isExact(token)) return true;
      i += token.length - 1;
    }
  }
  return false;
}

/**
 * Whether a JSON text (valid or not) holds more than `max` values, counted by
 * the `[`, `{` and `,` outside strings (strings are skipped whole). Checked
 * before `JSON.parse`, which spends tens of bytes on every value: 16 MiB of
 * `1,1,1,…` cost 200 MiB (measured).
 */
export function moreValuesThan(text: string, max: number): boolean {
  let count = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      i = stringEnd(text, i);
      if (i < 0) return false; // Unterminated: JSON.parse reports it.
    } else if ((c === 0x2c /* , */ || c === 0x5b /* [ */ || c === 0x7b) /* { */ && ++count > max) {
      return true;
    }
  }
  return false;
}

/** Where the JSON string starting at `start` (its opening quote) ends: its closing quote, or -1 if it has none. */
export function stringEnd(text: string, start: number): number {
  let i = start;
  for (;;) {
    i = text.indexOf('"', i + 1);
    let backslashes = 0;
    for (let k = i - 1; text.charCodeAt(k) === 0x5c; k--) backslashes++;
    if (backslashes % 2 === 0) return i;
  }
}
