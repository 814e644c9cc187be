/**
 * The deny-glob matcher: git-style `*` (within a component), `?`, `[...]`
 * (`!` or `^` negates), `**` (any depth) and `**\/` (zero or more whole
 * directories), matched by simulating all positions at once (Thompson's
 * construction) instead of backtracking. A regex with many `*` backtracks
 * exponentially: `a*a*…a*b` against a name of 40 `a`s took seconds per entry
 * on the event loop and froze every connection. Here one match costs at most
 * (path length + 1) × (states) steps, whatever the pattern.
 */
import { invalidParams } from "../protocol/errors.ts";

/** One piece of a compiled glob. */
type Token =
  | { kind: "char"; c: string }
  | { kind: "one" } // `?`: any character but `/`
  | { kind: "set"; negated: boolean; items: [string, string][] } // `[...]`: one character (`/` included, as before)
  | { kind: "star" } // `*`: any run without `/`
  | { kind: "any" } // `**`: any run
  | { kind: "dirs" }; // `**/`: empty, or any run ending in `/`

export type GlobMatcher = {
  /** Whether `path` matches; `steps` (if given) counts state visits, for tests that bound the cost. */
  test(path: string, steps?: { count: number }): boolean;
};

export function compileGlob(glob: string): GlobMatcher {
  const tokens = tokenize(glob);
  return { test: (path, steps) => run(tokens, path, steps) };
}

function tokenize(glob: string): Token[] {
  const out: Token[] = [];
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === "*" && glob[i + 1] === "*") {
      const slash = glob[i + 2] === "/";
      out.push({ kind: slash ? "dirs" : "any" });
      i += slash ? 2 : 1;
    } else if (c === "*") out.push({ kind: "star" });
    else if (c === "?") out.push({ kind: "one" });
    else if (c === "[" && glob.indexOf("]", i + 1) >= 0) {
      const end = glob.indexOf("]", i + 1);
      out.push(parseSet(glob.slice(i + 1, end), glob));
      i = end;
    } else out.push({ kind: "char", c });
  }
  return out;
}

/**
 * A bracket expression up to the first `]`, read as a regex class would be
 * (the old matcher built one): `a-z` ranges, `-` literal first or last, every
 * other character (`\` included) literal; an empty set matches nothing.
 */
function parseSet(body: string, glob: string): Token {
  const negated = body.startsWith("!") || body.startsWith("^");
  const chars = [...(negated ? body.slice(1) : body)];
  const items: [string, string][] = [];
  for (let i = 0; i < chars.length; i++) {
    const from = chars[i]!;
    if (chars[i + 1] === "-" && i + 2 < chars.length) {
      const to = chars[i + 2]!;
      if (to.codePointAt(0)! < from.codePointAt(0)!) throw invalidParams(`invalid glob pattern \`${glob}\`: range out of order in \`[${body}]\``);
      items.push([from, to]);
      i += 2;
    } else items.push([from, from]);
  }
  return { kind: "set", negated, items };
}

function inSet(t: Extract<Token, { kind: "set" }>, c: string): boolean {
  const code = c.codePointAt(0)!;
  const hit = t.items.some(([a, b]) => code >= a.codePointAt(0)! && code <= b.codePointAt(0)!);
  return hit !== t.negated;
}

/**
 * State `i` is "before token i" (`tokens.length`: the end); state `n + 1 + i` is
 * "inside the run of the `**\/` at i, before its closing `/`". A set of states
 * is advanced by one character at a time; the path matches if the end state
 * is reached after its last character.
 */
function run(tokens: Token[], path: string, steps?: { count: number }): boolean {
  const n = tokens.length;
  let current = closure(tokens, [0]);
  for (const c of path) {
    const next: number[] = [];
    for (const s of current) {
      if (steps) steps.count++;
      if (s > n) {
        // Inside the run of the `**/` at s - n - 1: any character continues it, a `/` may also end it.
        next.push(s);
        if (c === "/") next.push(s - n);
        continue;
      }
      const t = tokens[s];
      if (!t) continue;
      switch (t.kind) {
        case "char":
          if (c === t.c) next.push(s + 1);
          break;
        case "one":
          if (c !== "/") next.push(s + 1);
          break;
        case "set":
          if (inSet(t, c)) next.push(s + 1);
          break;
        case "star":
          if (c !== "/") next.push(s);
          break;
        case "any":
          next.push(s);
          break;
        case "dirs":
          next.push(n + 1 + s);
          if (c === "/") next.push(s + 1);
          break;
      }
    }
    if (next.length === 0) return false;
    current = closure(tokens, next);
  }
  return current.includes(n);
}

/** `states` plus every state reachable without reading a character (past `*`, `**`, `**\/`), deduplicated. */
function closure(tokens: Token[], states: number[]): number[] {
  const seen = new Set<number>();
  const stack = [...states];
  while (stack.length > 0) {
    const s = stack.pop()!;
    if (seen.has(s)) continue;
    seen.add(s);
    const kind = tokens[s]?.kind;
    if (s < tokens.length && (kind === "star" || kind === "any" || kind === "dirs")) stack.push(s + 1);
  }
  return [...seen];
}
