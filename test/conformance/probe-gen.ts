/**
 * The probing generator (issue 12, scope 2): scenarios are not listed one by
 * one but produced from a per-method table of parameters and their edge
 * values. Each method × parameter becomes one scenario that plays the method
 * once per edge value, every other parameter valid. Each edge gets its own
 * copy of a small fixture (`e<i>/…`, plus `x<i>/…` for names that are not
 * UTF-8), so a mutating call never changes what the next one sees, and every
 * path the tables build stays inside the scenario temp dir.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { build, type Entry } from "./fs-fixture.ts";
import { type Ctx, type Scenario, type Step, local, ready, req } from "./types.ts";

/** Marks an edge that omits the parameter entirely. */
export const ABSENT = Symbol("absent");
/** An edge value: data, ABSENT, or a function of the context and the edge's index (its fixture copy). */
export type EdgeVal = unknown;
export type Edge = readonly [label: string, value: EdgeVal];
/** Valid params for edge `i`; a parameter name may be a dotted path ("options.maxDepth", "roots.0.path"). */
export type Valid = (ctx: Ctx, i: number) => Record<string, unknown>;
export type ParamProbe = Edge[] | { edges: Edge[]; valid?: Valid; before?: (i: number) => Step[]; after?: (i: number) => Step[] };

export type MethodTable = {
  /** Scenario name prefix, e.g. "probe-gen/fs/readFile". */
  name: string;
  method: string;
  valid: Valid;
  params: Record<string, ParamProbe>;
  /** Steps after `ready()` (open a handle, start a process…). */
  before?: Step[];
  /** Steps before / after each edge's request, by edge index. */
  eachBefore?: (i: number) => Step[];
  eachAfter?: (i: number) => Step[];
  /** Steps after all edges (`n` = number of edges played). */
  after?: (n: number) => Step[];
  timeoutMs?: number;
};

const isFn = (v: unknown): v is (ctx: Ctx, i: number) => unknown => typeof v === "function";
export const edgeValue = (v: EdgeVal, ctx: Ctx, i: number): unknown => (isFn(v) ? v(ctx, i) : v);

/** Sets (or deletes, for ABSENT) `path` in a deep copy of `obj`; numeric segments index arrays. */
export function setAt(obj: Record<string, unknown>, path: string, value: unknown): Record<string, unknown> {
  const root = structuredClone(obj);
  const keys = path.split(".");
  let cur: Record<string, unknown> = root;
  for (const k of keys.slice(0, -1)) {
    if (!cur[k] || typeof cur[k] !== "object") cur[k] = {};
    cur = cur[k] as Record<string, unknown>;
  }
  const last = keys.at(-1)!;
  if (value === ABSENT) {
    if (Array.isArray(cur)) cur.splice(Number(last), 1);
    else delete cur[last];
  } else cur[last] = value;
  return root;
}

/** The label line that precedes each edge's request, so a diff names the edge. */
const label = (param: string, edge: string): Step => local(`edge ${param} = ${edge}`, () => {});

/**
 * One scenario per parameter of the table. `""` as a parameter name probes the whole params value;
 * `name#part` probes `name` again in a scenario of its own (e.g. to keep a deliberate difference apart).
 */
export function generate(t: MethodTable, setup: (dir: string, n: number) => void): Scenario[] {
  return Object.entries(t.params).map(([key, probe]) => {
    // "cwd#not-a-directory": a second scenario for the same parameter, named after the `#`.
    const param = key.split("#")[0]!;
    const { edges, valid = t.valid, before, after } = Array.isArray(probe) ? { edges: probe } : probe;
    const steps: Step[] = [...ready(), ...(t.before ?? [])];
    edges.forEach(([name, value], i) => {
      steps.push(...(t.eachBefore?.(i) ?? []), ...(before?.(i) ?? []), label(param || "params", name));
      const params =
        param === ""
          ? value === ABSENT
            ? undefined
            : (ctx: Ctx) => edgeValue(value, ctx, i)
          : (ctx: Ctx) => setAt(valid(ctx, i), param, edgeValue(value, ctx, i));
      steps.push(req(t.method, params as never, t.timeoutMs ? { timeoutMs: t.timeoutMs } : {}));
      steps.push(...(after?.(i) ?? []), ...(t.eachAfter?.(i) ?? []));
    });
    steps.push(...(t.after?.(edges.length) ?? []));
    return { name: `${t.name}/${key || "params"}`, setup: (dir: string) => setup(dir, edges.length), steps };
  });
}

// ---- the per-edge fixture ------------------------------------------------------

/** What each `e<i>/` holds: files, a dir, links (relative, inside), a name with a space, a hidden dir. */
export const EDGE_FIXTURE: Record<string, Entry> = {
  "a.txt": "hello\n",
  "src.txt": "source\n",
  "dir/b.txt": "bee",
  "dir/sub": { dir: true },
  "emptydir": { dir: true },
  "link-a": { link: "a.txt" },
  "link-dir": { link: "dir" },
  "dangling": { link: "nope.txt" },
  "sp ace.txt": "space",
  ".hidden/h.txt": "hidden",
};

/** Bytes of a name that is not UTF-8 ("n" + 0xff): only a Buffer path can create it. */
const nonUtf8 = (dir: string, rel: string, byte = 0xff) => Buffer.concat([Buffer.from(`${dir}/${rel}`), Buffer.from([byte])]);

/** `e0…e<n-1>` copies of EDGE_FIXTURE and `x<i>/` with a non-UTF-8 file `n\xff` and dir `d\xff/` (holding `f`). */
export function edgeFixture(dir: string, n: number): void {
  for (let i = 0; i < n; i++) {
    build(dir, Object.fromEntries(Object.entries(EDGE_FIXTURE).map(([k, v]) => [`e${i}/${k}`, v])));
    mkdirSync(`${dir}/x${i}`);
    writeFileSync(nonUtf8(dir, `x${i}/n`), "raw\n");
    const d = nonUtf8(dir, `x${i}/d`);
    mkdirSync(d);
    writeFileSync(Buffer.concat([d, Buffer.from("/f")]), "in raw dir\n");
  }
}

// ---- edge value sets -----------------------------------------------------------

/** `file://` URI of `rel` inside edge `i`'s fixture copy. */
export const u = (rel: string) => (ctx: Ctx, i: number) => `${ctx.uri}/e${i}/${rel}`;
const abs = (rel: string) => (ctx: Ctx, i: number) => `${ctx.dir}/e${i}/${rel}`;

/** Wrong JSON types for any parameter. */
export const WRONG_TYPES: Edge[] = [
  ["null", null],
  ["number", 5],
  ["negative", -1],
  ["bool", true],
  ["string", "x"],
  ["array", []],
  ["object", {}],
];

export const OPT_BOOL: Edge[] = [
  ["absent", ABSENT],
  ["null", null],
  ["true", true],
  ["false", false],
  ["string true", "true"],
  ["number 1", 1],
  ["array", []],
  ["object", {}],
];

export const U64: Edge[] = [
  ["absent", ABSENT],
  ["null", null],
  ["0", 0],
  ["1", 1],
  ["-1", -1],
  ["1.5", 1.5],
  ["1.0", 1.0],
  ["2^53", 9007199254740992],
  ["2^63 (too big for i64)", 9223372036854775808],
  ["1e30", 1e30],
  ["string", "1"],
  ["bool", true],
  ["array", []],
];

const LONG_COMPONENT = "c".repeat(300);
const LONG_PATH = `${"d".repeat(200)}/`.repeat(22) + "f";

/**
 * Path (`file://` URI) edge values around `target` (a name inside `e<i>/`): JSON types, empty,
 * relative, plain absolute path, links, non-UTF-8, URI spellings, huge.
 */
export function pathEdges(target: string): Edge[] {
  return [
    ["absent", ABSENT],
    ...WRONG_TYPES.filter(([l]) => l !== "string" && l !== "negative"),
    ["empty", ""],
    ["relative", (_c: Ctx, i: number) => `e${i}/${target}`],
    ["plain absolute path", abs(target)],
    ["target", u(target)],
    ["existing file", u("a.txt")],
    ["directory", u("dir")],
    ["nonexistent", u(`missing/${target}`)],
    ["nonexistent leaf", u("nope.txt")],
    ["symlink to file", u("link-a")],
    ["symlink to dir", u("link-dir")],
    ["through dir symlink", u("link-dir/b.txt")],
    ["dangling symlink", u("dangling")],
    ["non-UTF-8 file name", (c: Ctx, i: number) => `${c.uri}/x${i}/n%FF`],
    ["non-UTF-8 dir name", (c: Ctx, i: number) => `${c.uri}/x${i}/d%FF`],
    ["invalid percent escape", u("%zz")],
    ["percent-encoded space", u("sp%20ace.txt")],
    ["raw space", u("sp ace.txt")],
    ["encoded slash", u("dir%2Fb.txt")],
    ["file:/ single slash", (c: Ctx, i: number) => `file:${c.dir}/e${i}/${target}`],
    ["file://localhost", (c: Ctx, i: number) => `file://localhost${c.dir}/e${i}/${target}`],
    ["file://otherhost", (c: Ctx, i: number) => `file://otherhost${c.dir}/e${i}/${target}`],
    ["upper-case scheme", (c: Ctx, i: number) => `FILE://${c.dir}/e${i}/${target}`],
    ["query", u(`${target}?q=1`)],
    ["fragment", u(`${target}#frag`)],
    ["dot-dot segment", u(`dir/../${target}`)],
    ["double slash", u(`/${target}`)],
    ["trailing slash", u(`${target}/`)],
    ["component over 255", u(LONG_COMPONENT)],
    ["path over 4096", u(LONG_PATH)],
    ["http scheme", (c: Ctx, i: number) => `http://localhost${c.dir}/e${i}/${target}`],
  ];
}

/** Representative sandbox contexts (sandbox.md): none, read-only root, writable scenario dir, deny, network restricted, wrong shapes. */
const special = (kind: string) => ({ type: "special", value: { kind } });
const ctxOf = (permissions: unknown, extra: Record<string, unknown> = {}) => ({ permissions, windowsSandboxLevel: "disabled", ...extra });
const restricted = (entries: unknown[], network = "restricted") => ({ type: "managed", network, file_system: { type: "restricted", entries } });
export const SANDBOX_EDGES: Edge[] = [
  ["absent", ABSENT],
  ["null", null],
  ["string", "x"],
  ["object", {}],
  ["disabled", ctxOf({ type: "disabled" })],
  ["unrestricted fs, network restricted", ctxOf({ type: "managed", network: "restricted", file_system: { type: "unrestricted" } })],
  ["read-only root", ctxOf(restricted([{ path: special("root"), access: "read" }]))],
  [
    "root read, scenario dir write",
    (c: Ctx) => ctxOf(restricted([{ path: special("root"), access: "read" }, { path: { type: "path", path: c.uri }, access: "write" }])),
  ],
  [
    "root read, cwd write (cwd = scenario dir)",
    (c: Ctx) =>
      ctxOf(restricted([{ path: special("root"), access: "read" }, { path: special("current_working_directory"), access: "write" }]), {
        cwd: c.uri,
      }),
  ],
  [
    "writable dir, deny glob *.txt",
    (c: Ctx) =>
      ctxOf(
        restricted([
          { path: special("root"), access: "read" },
          { path: { type: "path", path: c.uri }, access: "write" },
          { path: { type: "glob_pattern", pattern: `${c.dir}/**/*.txt` }, access: "deny" },
        ]),
      ),
  ],
  [
    "writable dir, deny e<i>/dir",
    (c: Ctx, i: number) =>
      ctxOf(
        restricted([
          { path: special("root"), access: "read" },
          { path: { type: "path", path: c.uri }, access: "write" },
          { path: { type: "path", path: `${c.uri}/e${i}/dir` }, access: "deny" },
        ]),
      ),
  ],
  ["writable tmpdir + slash_tmp", ctxOf(restricted([{ path: special("root"), access: "read" }, { path: special("tmpdir"), access: "write" }, { path: special("slash_tmp"), access: "write" }]))],
  ["relative path entry", ctxOf(restricted([{ path: special("root"), access: "read" }, { path: { type: "path", path: "rel" }, access: "write" }]))],
  ["plain (non-URI) path entry", (c: Ctx) => ctxOf(restricted([{ path: special("root"), access: "read" }, { path: { type: "path", path: c.dir }, access: "write" }]))],
  ["relative deny glob, no cwd", ctxOf(restricted([{ path: special("root"), access: "read" }, { path: { type: "glob_pattern", pattern: "**/*.txt" }, access: "deny" }]))],
  ["network enabled, root read", ctxOf(restricted([{ path: special("root"), access: "read" }], "enabled"))],
  ["external network restricted", ctxOf({ type: "external", network: "restricted" })],
];

/** The edges that parse into a restricted file-system policy (fs/open then runs in the sandboxed fs helper on both). */
const RESTRICTED_FS = new Set([
  "read-only root",
  "root read, scenario dir write",
  "root read, cwd write (cwd = scenario dir)",
  "writable dir, deny glob *.txt",
  "writable dir, deny e<i>/dir",
  "writable tmpdir + slash_tmp",
  "network enabled, root read",
]);
export const SANDBOX_EDGES_UNRESTRICTED_FS = SANDBOX_EDGES.filter(([l]) => !RESTRICTED_FS.has(l));
export const SANDBOX_EDGES_RESTRICTED_FS = SANDBOX_EDGES.filter(([l]) => RESTRICTED_FS.has(l));
