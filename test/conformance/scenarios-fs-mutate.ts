/**
 * README §13.6–13.7: fs/remove and fs/copy. Every path (sources,
 * destinations, link targets) is inside the scenario temp dir; the effect of
 * each group is checked with a listing of that dir.
 */
import { BASIC, build, p } from "./fs-fixture.ts";
import { type Ctx, type Scenario, req, ready, tree } from "./types.ts";

const copy = (from: string, to: string, extra: Record<string, unknown> = { recursive: false }) =>
  req("fs/copy", (ctx: Ctx) => ({ sourcePath: `${ctx.uri}/${from}`, destinationPath: `${ctx.uri}/${to}`, ...extra }));

export const fsMutateScenarios: Scenario[] = [
  {
    name: "fs/remove-defaults",
    setup: (d) => build(d, { ...BASIC, "full/x.txt": "x", "full/deep/y.txt": "y", "keep/z.txt": "z" }),
    steps: [
      ...ready(),
      req("fs/remove", p("a.txt")),
      req("fs/remove", p("full")),
      req("fs/remove", p("emptydir")),
      req("fs/remove", p("missing.txt")),
      req("fs/remove", p("nope/deeper/missing.txt")),
      req("fs/remove", p("link-dir")),
      req("fs/remove", p("dangling")),
      req("fs/remove", p("fifo")),
      req("fs/remove", p("keep/z.txt/")),
      req("fs/remove", p("keep/z.txt/child")),
      tree(),
    ],
  },
  {
    name: "fs/remove-options",
    setup: (d) => build(d, { ...BASIC, "full/x.txt": "x", "empty2": { dir: true }, "link-full": { link: "full" } }),
    steps: [
      ...ready(),
      req("fs/remove", p("missing.txt", { force: false })),
      req("fs/remove", p("nope/missing.txt", { force: false })),
      req("fs/remove", p("missing.txt", { force: true, recursive: false })),
      req("fs/remove", p("full", { recursive: false })),
      req("fs/remove", p("full", { recursive: false, force: false })),
      req("fs/remove", p("emptydir", { recursive: false })),
      req("fs/remove", p("empty.txt", { recursive: false, force: false })),
      req("fs/remove", p("full", { followSymlinks: false })),
      req("fs/remove", p("a.txt", { followSymlinks: false })),
      req("fs/remove", p("a.txt", { followSymlinks: false, recursive: false })),
      req("fs/remove", p("link-a", { followSymlinks: false, recursive: false })),
      req("fs/remove", p("link-full", { recursive: false })),
      req("fs/remove", p("link-dir/b.txt", { followSymlinks: false, recursive: false })),
      req("fs/remove", p("empty2", { recursive: null, force: null, followSymlinks: null })),
      req("fs/remove", p("bin.dat", { recursive: "no" })),
      req("fs/remove", {}),
      tree(),
    ],
  },
  {
    name: "fs/copy-files-and-links",
    setup: (d) => build(d, { ...BASIC, "dest-exists.txt": "old content here" }),
    steps: [
      ...ready(),
      copy("a.txt", "a-copy.txt"),
      copy("a.txt", "dest-exists.txt"),
      copy("bin.dat", "bin-copy.dat", { recursive: true }),
      copy("link-a", "link-a-copy"),
      copy("link-dir", "link-dir-copy"),
      copy("link-dir", "link-dir-copy-r", { recursive: true }),
      copy("dangling", "dangling-copy"),
      copy("a.txt", "link-a"),
      req("fs/readFile", p("a.txt")),
      copy("a.txt", "dir"),
      copy("a.txt", "dir/"),
      copy("a.txt", "a.txt"),
      req("fs/readFile", p("a.txt")),
      copy("fifo", "fifo-copy"),
      copy("missing.txt", "m-copy.txt"),
      copy("a.txt", "nope/a.txt"),
      copy("a.txt", "a.txt/child"),
      tree(),
    ],
  },
  {
    name: "fs/copy-directories",
    setup: (d) =>
      build(d, {
        ...BASIC,
        "dir/sub/deep.txt": "deep",
        "dir/rel-link": { link: "b.txt" },
        "dir/up-link": { link: "../a.txt" },
        "merge/keep.txt": "keep",
        "merge/b.txt": "old bee, longer",
        "merge/sub/other.txt": "other",
        "fdir/fifo-inside": { fifo: true },
      }),
    steps: [
      ...ready(),
      copy("dir", "dir-copy"),
      copy("dir", "dir-copy", { recursive: true }),
      copy("dir", "merge", { recursive: true }),
      copy("emptydir", "emptydir-copy", { recursive: true }),
      copy("dir", "dir/sub/inner", { recursive: true }),
      copy("dir", "dir", { recursive: true }),
      copy("dir", "dir/", { recursive: true }),
      copy("link-dir", "dir/sub/via-link", { recursive: true }),
      copy("dir", "a.txt", { recursive: true }),
      copy("dir", "nope/dir", { recursive: true }),
      copy("fdir", "fdir-copy", { recursive: true }),
      copy("dir", "x", {}),
      copy("dir", "x", { recursive: null }),
      copy("dir", "x", { recursive: "true" }),
      req("fs/copy", (ctx: Ctx) => ({ sourcePath: `${ctx.uri}/a.txt`, recursive: false })),
      tree(),
    ],
  },
];
