/**
 * Probed fs/* scenarios (probe-gen.ts): every parameter of every fs method
 * across its types and edge values, each edge on its own fixture copy
 * `e<i>/` inside the scenario temp dir. Mutating methods end with a listing
 * of every copy, so a side effect (or its absence) is compared too.
 */
import { ABSENT, type Edge, edgeFixture, generate, type MethodTable, OPT_BOOL, pathEdges, SANDBOX_EDGES, SANDBOX_EDGES_RESTRICTED_FS, SANDBOX_EDGES_UNRESTRICTED_FS, U64, u, WRONG_TYPES } from "./probe-gen.ts";
import { type Ctx, type Scenario, type Step, b64, req, tree } from "./types.ts";

const trees = (n: number): Step[] => Array.from({ length: n }, (_, i) => tree(`e${i}`));

const BASE64_EDGES: Edge[] = [
  ["absent", ABSENT],
  ...WRONG_TYPES,
  ["empty", ""],
  ["valid", b64("data\n")],
  ["no padding", "aGk"],
  ["bad symbol", "a!=="],
  ["trailing newline", "aGk=\n"],
  ["url-safe alphabet", "aG_k"],
  ["embedded space", "aG k"],
  ["non-ASCII", "é"],
  ["1 MiB", Buffer.alloc(1 << 20, 0x61).toString("base64")],
];

/** The reference's limit `n` and one past it. */
const around = (name: string, n: number): Edge[] => [
  [name, n],
  [`${name} + 1`, n + 1],
];

const file = (rel: string) => (c: Ctx, i: number) => ({ path: u(rel)(c, i) });
const mutating = { after: trees };

const TABLES: MethodTable[] = [
  {
    name: "probe-gen/fs/readFile",
    method: "fs/readFile",
    valid: file("a.txt"),
    params: { path: pathEdges("a.txt"), followSymlinks: { edges: OPT_BOOL, valid: file("link-a") }, sandbox: SANDBOX_EDGES },
  },
  {
    name: "probe-gen/fs/writeFile",
    method: "fs/writeFile",
    valid: (c, i) => ({ path: u("new.txt")(c, i), dataBase64: b64("written\n") }),
    params: {
      path: pathEdges("new.txt"),
      dataBase64: BASE64_EDGES,
      followSymlinks: { edges: OPT_BOOL, valid: (c, i) => ({ path: u("link-a")(c, i), dataBase64: b64("via link\n") }) },
      sandbox: SANDBOX_EDGES,
    },
    ...mutating,
  },
  {
    name: "probe-gen/fs/createDirectory",
    method: "fs/createDirectory",
    valid: (c, i) => ({ path: u("newdir")(c, i), recursive: false }),
    params: {
      path: pathEdges("newdir"),
      recursive: { edges: OPT_BOOL, valid: (c, i) => ({ path: u("deep/er/newdir")(c, i) }) },
      followSymlinks: { edges: OPT_BOOL, valid: (c, i) => ({ path: u("link-dir/newsub")(c, i) }) },
      sandbox: SANDBOX_EDGES,
    },
    ...mutating,
  },
  {
    name: "probe-gen/fs/getMetadata",
    method: "fs/getMetadata",
    valid: file("a.txt"),
    params: { path: pathEdges("a.txt"), followSymlinks: { edges: OPT_BOOL, valid: file("link-a") }, sandbox: SANDBOX_EDGES },
  },
  {
    name: "probe-gen/fs/readDirectory",
    method: "fs/readDirectory",
    valid: file("dir"),
    params: {
      path: [...pathEdges("dir"), ["dir with non-UTF-8 entries", (c: Ctx, i: number) => `${c.uri}/x${i}`]],
      sandbox: SANDBOX_EDGES,
    },
  },
  {
    name: "probe-gen/fs/remove",
    method: "fs/remove",
    valid: file("a.txt"),
    params: {
      path: pathEdges("a.txt"),
      recursive: { edges: OPT_BOOL, valid: file("dir") },
      force: { edges: OPT_BOOL, valid: file("nope.txt") },
      followSymlinks: { edges: OPT_BOOL, valid: file("link-dir") },
      sandbox: SANDBOX_EDGES,
    },
    ...mutating,
  },
  {
    name: "probe-gen/fs/copy",
    method: "fs/copy",
    valid: (c, i) => ({ sourcePath: u("src.txt")(c, i), destinationPath: u("copy-dst")(c, i), recursive: false }),
    params: {
      sourcePath: pathEdges("src.txt"),
      destinationPath: pathEdges("copy-dst"),
      recursive: {
        edges: OPT_BOOL,
        valid: (c, i) => ({ sourcePath: u("dir")(c, i), destinationPath: u("copy-dir")(c, i) }),
      },
      sandbox: SANDBOX_EDGES,
    },
    ...mutating,
  },
  {
    name: "probe-gen/fs/canonicalize",
    method: "fs/canonicalize",
    valid: file("link-dir/b.txt"),
    params: { path: pathEdges("a.txt"), sandbox: SANDBOX_EDGES },
  },
];

const WALK_OPTIONS = { maxDepth: 3, maxDirectories: 10, maxEntries: 50, followDirectorySymlinks: false };
const walkValid = (c: Ctx, i: number) => ({ path: u("")(c, i).replace(/\/$/, ""), options: { ...WALK_OPTIONS } });

TABLES.push({
  name: "probe-gen/fs/walk",
  method: "fs/walk",
  valid: walkValid,
  params: {
    path: pathEdges("dir"),
    options: [["absent", ABSENT], ...WRONG_TYPES, ["extra key", { ...WALK_OPTIONS, extra: 1 }]],
    "options.maxDepth": [...U64, ...around("limit", 64)],
    "options.maxDirectories": [...U64, ...around("limit", 10_000)],
    "options.maxEntries": [...U64, ...around("limit", 50_000)],
    "options.followDirectorySymlinks": OPT_BOOL,
    "options.pruneHiddenDirectories": OPT_BOOL,
    sandbox: SANDBOX_EDGES,
  },
});

/** A handle per edge: `h<i>` (fs/open's own probes), or the shared `r` / `w` the block methods use. */
const HANDLE_EDGES: Edge[] = [
  ["absent", ABSENT],
  ...WRONG_TYPES,
  ["empty", ""],
  ["unknown", "no-such-handle"],
  ["long", "h".repeat(10_000)],
  ["non-ASCII", "hé"],
];

TABLES.push(
  {
    name: "probe-gen/fs/open",
    method: "fs/open",
    valid: (c, i) => ({ handleId: `h${i}`, path: u("a.txt")(c, i), mode: "read" }),
    params: {
      handleId: [...HANDLE_EDGES.filter(([l]) => l !== "unknown"), ["already open", "r"]],
      path: pathEdges("a.txt"),
      mode: [["absent", ABSENT], ...WRONG_TYPES, ["read", "read"], ["replace", "replace"], ["append", "append"], ["Read", "Read"]],
      // Under a restricted file-system policy execbox refuses fs/open (a deliberate difference), so those edges are a scenario of their own.
      sandbox: SANDBOX_EDGES_UNRESTRICTED_FS,
      "sandbox#restricted-fs": SANDBOX_EDGES_RESTRICTED_FS,
    },
    before: [req("fs/open", (c: Ctx) => ({ handleId: "r", path: `${c.uri}/e0/src.txt`, mode: "read" }))],
    after: trees,
  },
  {
    name: "probe-gen/fs/readBlock",
    method: "fs/readBlock",
    valid: () => ({ handleId: "r", offset: 0, len: 4 }),
    params: { handleId: HANDLE_EDGES, offset: U64, len: [...U64, ...around("1 MiB", 1 << 20)] },
    before: [req("fs/open", (c: Ctx) => ({ handleId: "r", path: `${c.uri}/e0/a.txt`, mode: "read" }))],
  },
  {
    name: "probe-gen/fs/writeBlock",
    method: "fs/writeBlock",
    valid: () => ({ handleId: "w", offset: 0, chunk: b64("blk") }),
    params: { handleId: HANDLE_EDGES, offset: U64.filter(([l]) => !l.startsWith("2^") && l !== "1e30"), chunk: [...BASE64_EDGES, ["1 MiB + 1", Buffer.alloc((1 << 20) + 1, 0x62).toString("base64")]] },
    before: [req("fs/open", (c: Ctx) => ({ handleId: "w", path: `${c.uri}/e0/w.bin`, mode: "replace" }))],
    after: () => [req("fs/close", { handleId: "w" }), tree("e0")],
  },
  {
    name: "probe-gen/fs/close",
    method: "fs/close",
    valid: () => ({ handleId: "r" }),
    params: { handleId: [...HANDLE_EDGES, ["open", "r"], ["closed twice", "r"]] },
    before: [req("fs/open", (c: Ctx) => ({ handleId: "r", path: `${c.uri}/e0/a.txt`, mode: "read" }))],
  },
  {
    name: "probe-gen/fs/watchMissing",
    method: "fs/watchMissing",
    valid: (c, i) => ({ watchId: 100 + i, present: null, missing: [u("missing-flag")(c, i)] }),
    params: {
      watchId: [...U64, ["reused", 100]],
      present: pathEdges("dir"),
      missing: [
        ["absent", ABSENT],
        ...WRONG_TYPES,
        ["array of number", [5]],
        ["array of null", [null]],
        ["relative", ["rel/flag"]],
        ["existing", (c: Ctx, i: number) => [u("a.txt")(c, i)]],
        ["non-UTF-8", (c: Ctx, i: number) => [`${c.uri}/x${i}/n%FF`]],
        ["duplicates", (c: Ctx, i: number) => [u("m")(c, i), u("m")(c, i)]],
        ["plain path", (c: Ctx, i: number) => [`${c.dir}/e${i}/m`]],
      ],
    },
  },
);

export const probeFsScenarios: Scenario[] = TABLES.flatMap((t) => generate(t, edgeFixture));
