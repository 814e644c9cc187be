/**
 * README §13.11: fs/watchMissing and the one-shot fs/missingChanged
 * notification (awaited with a deadline), its refusals, and present:null.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { at, build } from "./fs-fixture.ts";
import { type Ctx, type Scenario, type Step, awaitNotify, b64, local, req, ready } from "./types.ts";

const watch = (watchId: unknown, present: string | null, missing: string[]): Step =>
  req("fs/watchMissing", { watchId, present: present === null ? null : at(present), missing: missing.map((m) => at(m)) });

const touch = (rel: string): Step => local(`create ${rel}`, (dir) => writeFileSync(join(dir, rel), "x"));

const setup = (d: string) => build(d, { "watched/existing.txt": "e", "other": { dir: true }, "file.txt": "f" });

export const fsWatchScenarios: Scenario[] = [
  {
    name: "fs/watchMissing-path-cap",
    setup,
    steps: [
      ...ready(),
      // 64 paths (repeats count) are watched; 65 are refused and the id is spent.
      watch(1, "watched", Array.from({ length: 64 }, () => "watched/same.flag")),
      watch(2, "watched", Array.from({ length: 65 }, (_, i) => `watched/m${i}.flag`)),
      watch(2, "watched", ["watched/one.flag"]),
    ],
  },
  {
    name: "fs/watchMissing-fires-once",
    setup,
    steps: [
      ...ready(),
      watch(7, "watched", ["watched/ready.flag"]),
      touch("watched/ready.flag"),
      awaitNotify("fs/missingChanged"),
      local("remove and re-create ready.flag", (dir) => {
        Bun.spawnSync(["rm", join(dir, "watched/ready.flag")]);
        writeFileSync(join(dir, "watched/ready.flag"), "again");
      }),
      awaitNotify("fs/missingChanged", { timeoutMs: 1_000 }),
      watch(7, "watched", ["watched/another.flag"]),
      watch(8, "watched", ["watched/a.flag", "watched/b.flag"]),
      touch("watched/b.flag"),
      awaitNotify("fs/missingChanged"),
      touch("watched/a.flag"),
      awaitNotify("fs/missingChanged", { timeoutMs: 1_000 }),
    ],
  },
  {
    name: "fs/watchMissing-present-null-and-outside",
    setup,
    steps: [
      ...ready(),
      watch(1, null, ["other/null.flag"]),
      touch("other/null.flag"),
      awaitNotify("fs/missingChanged"),
      watch(2, "watched", ["other/outside.flag"]),
      touch("other/outside.flag"),
      awaitNotify("fs/missingChanged"),
      watch(3, "watched", ["watched/own-write.txt"]),
      req("fs/writeFile", { path: at("watched/own-write.txt"), dataBase64: b64("x") }),
      awaitNotify("fs/missingChanged"),
      watch(4, "watched", ["watched/newdir"]),
      local("mkdir watched/newdir", (dir) => mkdirSync(join(dir, "watched/newdir"))),
      awaitNotify("fs/missingChanged"),
    ],
  },
  {
    name: "fs/watchMissing-deep-path",
    setup,
    steps: [
      ...ready(),
      watch(5, "watched", ["watched/sub/deep.flag"]),
      local("mkdir watched/sub", (dir) => mkdirSync(join(dir, "watched/sub"))),
      awaitNotify("fs/missingChanged", { timeoutMs: 1_500 }),
      touch("watched/sub/deep.flag"),
      awaitNotify("fs/missingChanged", { timeoutMs: 2_000 }),
    ],
  },
  {
    name: "fs/watchMissing-refusals",
    setup,
    steps: [
      ...ready(),
      watch(10, "watched", []),
      watch(11, "missing-dir", ["missing-dir/x"]),
      watch(12, "file.txt", ["file.txt.flag"]),
      watch(13, "watched", ["watched/existing.txt"]),
      watch(14, "watched", ["watched/x.flag", "watched/existing.txt"]),
      watch(15, "watched", ["watched/y.flag"]),
      watch(15, "watched", ["watched/z.flag"]),
      watch(11, "watched", ["watched/w.flag"]),
      watch(10, null, []),
      watch(-1, "watched", ["watched/n.flag"]),
      watch(1.5, "watched", ["watched/n.flag"]),
      watch("16", "watched", ["watched/n.flag"]),
      req("fs/watchMissing", { watchId: 17, missing: [at("watched/q.flag")] }),
      req("fs/watchMissing", { watchId: 18, present: at("watched") }),
      req("fs/watchMissing", { watchId: 19, present: at("watched"), missing: null }),
      req("fs/watchMissing", { watchId: 20, present: (ctx: Ctx) => `${ctx.dir}/watched`, missing: [at("watched/q.flag")] }),
      req("fs/watchMissing", { watchId: 21, present: at("watched"), missing: ["relative.flag"] }),
      req("fs/watchMissing", { present: at("watched"), missing: [at("watched/q.flag")] }),
      awaitNotify("fs/missingChanged", { timeoutMs: 300 }),
    ],
  },
];
