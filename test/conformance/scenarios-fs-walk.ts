/**
 * README §13.9: fs/walk — breadth-first with names sorted bytewise, hidden
 * directory pruning, symlink following with cycles, every limit and its
 * truncation, option validation, file / symlink / missing roots.
 */
import { build, p } from "./fs-fixture.ts";
import { type Scenario, type Step, req, ready } from "./types.ts";

const WALK_TREE = {
  "w/a.txt": "a",
  "w/Z.txt": "Z",
  "w/_under.txt": "_",
  "w/.dotfile": ".",
  "w/b/c.txt": "c",
  "w/b/d/e.txt": "e",
  "w/b/d/f/g.txt": "g",
  "w/.hidden/h.txt": "h",
  "w/.hidden/.deeper/x.txt": "x",
  "w/b/.inner/i.txt": "i",
  "w/link-b": { link: "b" },
  "w/link-a": { link: "a.txt" },
  "w/dangling": { link: "nope" },
  "w/fifo": { fifo: true },
  "w/cyc/back": { link: ".." },
  "w/cyc/self": { link: "." },
  "w/sp ace.txt": "s",
  "w/ünï/ü.txt": "u",
  "w/empty": { dir: true },
} as const;

type Opts = { maxDepth: unknown; maxDirectories: unknown; maxEntries: unknown; followDirectorySymlinks: unknown; pruneHiddenDirectories: unknown };
const BASE: Opts = { maxDepth: 10, maxDirectories: 100, maxEntries: 1000, followDirectorySymlinks: false, pruneHiddenDirectories: false };

const walk = (opts: Partial<Opts> = {}, root = "w"): Step => req("fs/walk", p(root, { options: { ...BASE, ...opts } }));

const setup = (d: string) => build(d, WALK_TREE);

export const fsWalkScenarios: Scenario[] = [
  {
    name: "fs/walk-order-hidden-symlinks",
    setup,
    steps: [
      ...ready(),
      walk(),
      walk({ pruneHiddenDirectories: true }),
      walk({ followDirectorySymlinks: true }),
      walk({ followDirectorySymlinks: true, pruneHiddenDirectories: true }),
      walk({}, "w/.hidden"),
      walk({ pruneHiddenDirectories: true }, "w/.hidden"),
    ],
  },
  {
    name: "fs/walk-depth-and-truncation",
    setup,
    steps: [
      ...ready(),
      walk({ maxDepth: 0 }),
      walk({ maxDepth: 1 }),
      walk({ maxDepth: 64 }),
      walk({ maxEntries: 1 }),
      walk({ maxEntries: 3 }),
      // Root w/ holds 14 entries, 10 of them reported (dangling, fifo and the two links are skipped): where does the count stop?
      ...[9, 10, 11, 12, 13, 14, 15].map((maxEntries) => walk({ maxEntries })),
      walk({ maxEntries: 16 }),
      walk({ maxEntries: 17 }),
      walk({ maxDirectories: 1 }),
      walk({ maxDirectories: 2 }),
      walk({ maxDirectories: 3 }),
      walk({ maxDirectories: 1, maxDepth: 0 }),
      walk({ maxDepth: 0, maxEntries: 15 }),
      walk({ maxDirectories: 10000, maxEntries: 50000, maxDepth: 64 }),
      walk({ followDirectorySymlinks: true, maxDirectories: 4 }),
      walk({ followDirectorySymlinks: true, maxEntries: 20 }),
    ],
  },
  {
    name: "fs/walk-limit-errors",
    setup,
    steps: [
      ...ready(),
      walk({ maxDepth: 0, maxDirectories: 0 }),
      walk({ maxEntries: 0 }),
      walk({ maxDepth: 65 }),
      walk({ maxDirectories: 10001 }),
      walk({ maxEntries: 50001 }),
      walk({ maxDepth: 65, maxEntries: 0 }),
      walk({ maxDepth: -1 }),
      walk({ maxEntries: 1.5 }),
      walk({ maxDepth: "1" }),
      walk({ maxDepth: null }),
      walk({ followDirectorySymlinks: null }),
      walk({ pruneHiddenDirectories: "yes" }),
      walk({ pruneHiddenDirectories: null, maxEntries: 2 }),
      // Which of the five keys are really required?
      ...Object.keys(BASE).map((k) => req("fs/walk", p("w", { options: { ...BASE, maxEntries: 2, [k]: undefined } }))),
      req("fs/walk", p("w", { options: {} })),
      req("fs/walk", p("w", { options: { ...BASE, extra: 1 } })),
      req("fs/walk", p("w", { options: null })),
      req("fs/walk", p("w")),
      req("fs/walk", p("w", { options: [] })),
    ],
  },
  {
    // Which skipped entries count against maxEntries: each dir holds a.txt, one skipped kind, z.txt.
    name: "fs/walk-entry-counting",
    setup: (d) =>
      build(d, {
        "c/dangling/a.txt": "a",
        "c/dangling/m": { link: "nope" },
        "c/dangling/z.txt": "z",
        "c/fifo/a.txt": "a",
        "c/fifo/m": { fifo: true },
        "c/fifo/z.txt": "z",
        "c/filelink/a.txt": "a",
        "c/filelink/m": { link: "a.txt" },
        "c/filelink/z.txt": "z",
        "c/dirlink/a.txt": "a",
        "c/dirlink/m": { link: "../fifo" },
        "c/dirlink/z.txt": "z",
      }),
    steps: [
      ...ready(),
      ...["dangling", "fifo", "filelink", "dirlink"].flatMap((k) => [walk({ maxEntries: 2 }, `c/${k}`), walk({ maxEntries: 3 }, `c/${k}`)]),
      walk({ maxEntries: 3, followDirectorySymlinks: true }, "c/dirlink"),
      walk({ maxEntries: 4, followDirectorySymlinks: true }, "c/dirlink"),
      walk({ maxEntries: 2, maxDepth: 0 }, "c/fifo"),
    ],
  },
  {
    name: "fs/walk-roots",
    setup,
    steps: [
      ...ready(),
      walk({}, "w/a.txt"),
      walk({}, "w/link-b"),
      walk({ followDirectorySymlinks: true }, "w/link-b"),
      walk({}, "w/link-a"),
      walk({}, "w/dangling"),
      walk({}, "w/fifo"),
      walk({}, "w/missing"),
      walk({ maxEntries: 0 }, "w/missing"),
      walk({}, "w/empty"),
      walk({}, "w/b/"),
      walk({}, "w/b/../b/d"),
      walk({}, "w/%C3%BCn%C3%AF"),
    ],
  },
];
