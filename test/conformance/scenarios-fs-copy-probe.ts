/**
 * fs/copy of a directory onto a destination that already exists, collision
 * by collision: what the destination held (file, directory, symlink to a
 * file outside the copy, FIFO) against what the source brings. Everything,
 * link targets included, is inside the scenario temp dir.
 */
import { build } from "./fs-fixture.ts";
import { type Ctx, type Scenario, req, ready, tree } from "./types.ts";

const copyDir = (from: string, to: string, timeoutMs?: number) =>
  req("fs/copy", (ctx: Ctx) => ({ sourcePath: `${ctx.uri}/${from}`, destinationPath: `${ctx.uri}/${to}`, recursive: true }), { timeoutMs });

export const fsCopyProbeScenarios: Scenario[] = [
  {
    name: "probe/copy-dir-onto-existing-collisions",
    setup: (d) =>
      build(d, {
        "src/file-vs-dir": "src file",
        "src/dir-vs-file/inner.txt": "src inner",
        "src/file-vs-link": "src through link?",
        "src/link-vs-file": { link: "file-vs-dir" },
        "src/link-vs-link": { link: "file-vs-dir" },
        "src/file-vs-fifo": "src fifo?",
        "dst1/file-vs-dir/kept.txt": "kept",
        "dst2/dir-vs-file": "dest file",
        "dst3/file-vs-link": { link: "../outside.txt" },
        "outside.txt": "outside must stay",
        "dst4/link-vs-file": "dest plain",
        "dst5/link-vs-link": { link: "../outside.txt" },
        "dst6/file-vs-fifo": { fifo: true },
        "dst7-target/x.txt": "x",
        "dst7": { link: "dst7-target" },
      }),
    steps: [
      ...ready(),
      ...[1, 2, 3, 4, 5, 7].map((n) => copyDir("src", `dst${n}`)),
      tree(),
      // Last: opening the FIFO for writing blocks the reference's request (and with it the connection) for good.
      copyDir("src", "dst6", 2000),
    ],
  },
  {
    name: "probe/copy-link-onto-existing",
    setup: (d) =>
      build(d, {
        "a.txt": "a",
        "link-a": { link: "a.txt" },
        "plain.txt": "plain must stay",
        "other-link": { link: "plain.txt" },
        "dir/x": "x",
      }),
    steps: [
      ...ready(),
      req("fs/copy", (ctx: Ctx) => ({ sourcePath: `${ctx.uri}/link-a`, destinationPath: `${ctx.uri}/plain.txt`, recursive: false })),
      req("fs/copy", (ctx: Ctx) => ({ sourcePath: `${ctx.uri}/link-a`, destinationPath: `${ctx.uri}/other-link`, recursive: false })),
      req("fs/copy", (ctx: Ctx) => ({ sourcePath: `${ctx.uri}/link-a`, destinationPath: `${ctx.uri}/dir`, recursive: false })),
      tree(),
    ],
  },
];
