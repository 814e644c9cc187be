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

/** One piece of a compiled glob; characters are UTF-16 code units, as the regex it replaces read them. */
type Token =
  | { kind: "char"; c: number }
  | { kind: "one" } // `?`: any character but `/`
  | { kind: "set"; negated: boolean; items: [number, number][] } // `[...]`: one character (`/` included, as before)
  | { kind: "star" } // `*`: any run without `/`
  | { kind: "any" } // `**`: any run
  | { kind: "dirs" }; // `**/`: empty, or any run ending in `/`

const SLASH = 0x2f;

/**
 * Longest deny glob accepted (PATH_MAX): a path is never longer, and the
 * matcher's state table grows with the pattern.
 */
export const MAX_GLOB_PATTERN_LENGTH = 4096;
/**
 * Steps the deny globs of one sandbox policy may spend, matching and scanning.
 * `**\/*.pem` over 1,100 directories of 11,100 entries cost 2.45 M (132 ms),
 * so 100,000 entries cost ~22 M; a policy that would cost more than three
 * times that (measured 1.8 s on a busy 2-core box) is refused rather than
 * allowed to stall every connection. This budget is also what stops a scan of
 * a huge tree: refused, never cut short (a partial scan would leave matching
 * files unmasked).
 */
export const MAX_GLOB_MATCH_STEPS = 64 * 1024 * 1024;
/** What a scan's directory read costs, in matching steps (measured 8–20 µs for a small directory, more under load). */
export const SCAN_DIRECTORY_STEPS = 1024;
/** What each entry a scan reads costs, in matching steps (measured 0.6–1 µs, more under load). */
export const SCAN_ENTRY_STEPS = 64;

/** Steps spent so far, shared by the matchers of one policy. */
export type GlobBudget = { steps: number; readonly max: number };

export const globBudget = (max = MAX_GLOB_MATCH_STEPS): GlobBudget => ({ steps: 0, max });

/** Spends `n` steps (a state visited; a directory or entry a scan reads); -32602 once the budget is gone. */
export function spendSteps(budget: GlobBudget, glob: string, n = 1): void {
  if ((budget.steps += n) > budget.max) {
    throw invalidParams(`deny globs are too costly to match: more than ${budget.max} steps over the entries they scan (stopped at \`${glob}\`)`);
  }
}

export type GlobMatcher = {
  /** Whether `path` matches; throws -32602 once the budget is spent. */
  test(path: string): boolean;
};

export function compileGlob(glob: string, budget: GlobBudget = globBudget(Number.POSITIVE_INFINITY)): GlobMatcher {
  if (glob.length > MAX_GLOB_PATTERN_LENGTH) {
    throw invalidParams(`invalid glob pattern: longer than ${MAX_GLOB_PATTERN_LENGTH} characters`);
  }
  const tokens = tokenize(glob);
  const prefix = literalPrefix(tokens);
  return { test: (path) => path.startsWith(prefix) && run(tokens, prefix.length, path, budget, glob) };
}

/** The characters every match starts with: compared at once instead of stepped through. */
function literalPrefix(tokens: Token[]): string {
  let prefix = "";
  for (const t of tokens) {
    if (t.kind !== "char") break;
    prefix += String.fromCharCode(t.c);
  }
  return prefix;
}

function tokenize(glob: string): Token[] {
  const out: Token[] = [];
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === "*" && glob[i + 1] === "*") {
      const slash = glob[i + 2] === "/";
      // Right after `**`, another `**` or `**/` adds nothing (`.*(?:.*/)?` is `.*`), nor `**/` after `**/`: runs stay one state.
      const last = out.at(-1)?.kind;
      if (last === "any" || (last === "dirs" && slash)) {
        i += slash ? 2 : 1;
        continue;
      }
      out.push({ kind: slash ? "dirs" : "any" });
      i += slash ? 2 : 1;
    } else if (c === "*") out.push({ kind: "star" });
    else if (c === "?") out.push({ kind: "one" });
    else if (c === "[" && glob.indexOf("]", i + 1) >= 0) {
      const end = glob.indexOf("]", i + 1);
      out.push(parseSet(glob.slice(i + 1, end), glob));
      i = end;
    } else out.push({ kind: "char", c: glob.charCodeAt(i) });
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
  const chars = negated ? body.slice(1) : body;
  const items: [number, number][] = [];
  for (let i = 0; i < chars.length; i++) {
    const from = chars.charCodeAt(i);
    if (chars[i + 1] === "-" && i + 2 < chars.length) {
      const to = chars.charCodeAt(i + 2);
      if (to < from) throw invalidParams(`invalid glob pattern \`${glob}\`: range out of order in \`[${body}]\``);
      items.push([from, to]);
      i += 2;
    } else items.push([from, from]);
  }
  return { kind: "set", negated, items };
}

function inSet(t: Extract<Token, { kind: "set" }>, c: number): boolean {
  const hit = t.items.some(([a, b]) => c >= a && c <= b);
  return hit !== t.negated;
}

/**
 * State `i` is "before token i" (`tokens.length`: the end); state `n + 1 + i` is
 * "inside the run of the `**\/` at i, before its closing `/`". A set of states
 * is advanced by one character at a time; the path matches if the end state
 * is reached after its last character.
 */
function run(tokens: Token[], from: number, path: string, budget: GlobBudget, glob: string): boolean {
  const n = tokens.length;
  const seen = new Int32Array(2 * n + 2).fill(-1);
  let current: number[] = [];
  let next: number[] = [];
  let round = 0;
  // Adds `s` and what follows it without reading (past `*`, `**`, `**\/`), once per round.
  const add = (list: number[], s: number) => {
    for (; seen[s] !== round; s++) {
      seen[s] = round;
      list.push(s);
      const kind = s < n ? tokens[s]!.kind : undefined;
      if (kind !== "star" && kind !== "any" && kind !== "dirs") return;
    }
  };
  add(current, from);
  for (let i = from; i < path.length; i++) {
    const c = path.charCodeAt(i);
    round++;
    next.length = 0;
    for (const s of current) {
      spendSteps(budget, glob);
      if (s > n) {
        // Inside the run of the `**/` at s - n - 1: any character continues it, a `/` may also end it.
        add(next, s);
        if (c === SLASH) add(next, s - n);
        continue;
      }
      const t = tokens[s];
      if (!t) continue;
      switch (t.kind) {
        case "char":
          if (c === t.c) add(next, s + 1);
          break;
        case "one":
          if (c !== SLASH) add(next, s + 1);
          break;
        case "set":
          if (inSet(t, c)) add(next, s + 1);
          break;
        case "star":
          if (c !== SLASH) add(next, s);
          break;
        case "any":
          add(next, s);
          break;
        case "dirs":
          add(next, n + 1 + s);
          if (c === SLASH) add(next, s + 1);
          break;
      }
    }
    if (next.length === 0) return false;
    [current, next] = [next, current];
  }
  return current.includes(n);
}
