/**
 * README §13.10: fs/open, fs/readBlock, fs/writeBlock, fs/close — block
 * sizes and EOF, handle ids and limits, mode mismatches, replace semantics,
 * holes, and reads that continue after the path is replaced or unlinked.
 */
import { renameSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BASIC, build, p } from "./fs-fixture.ts";
import { type Scenario, type Step, b64, local, req, ready, tree } from "./types.ts";

const MiB = 1024 * 1024;
/** 2.5 MiB of bytes i % 251 (a period prime to every block size, so misplaced blocks show). */
const BIG = Uint8Array.from({ length: 2.5 * MiB }, (_, i) => i % 251);

const open = (handleId: unknown, rel: string, mode?: unknown): Step =>
  req("fs/open", p(rel, mode === undefined ? { handleId } : { handleId, mode }));
const readBlock = (handleId: unknown, offset: unknown, len: unknown, conn?: string): Step =>
  req("fs/readBlock", { handleId, offset, len }, { conn });
const writeBlock = (handleId: unknown, offset: unknown, chunk: unknown): Step => req("fs/writeBlock", { handleId, offset, chunk });
const close = (handleId: unknown): Step => req("fs/close", { handleId });

export const fsHandleScenarios: Scenario[] = [
  {
    name: "fs/handles-read-blocks",
    setup: (d) => build(d, { ...BASIC, "big.bin": BIG }),
    steps: [
      ...ready(),
      open("r1", "big.bin"),
      readBlock("r1", 0, MiB),
      readBlock("r1", MiB, MiB),
      readBlock("r1", 2 * MiB, MiB),
      readBlock("r1", 2 * MiB, 0.5 * MiB),
      readBlock("r1", 2 * MiB, 0.5 * MiB - 1),
      readBlock("r1", 2.5 * MiB - 3, 3),
      readBlock("r1", 2.5 * MiB, 16),
      readBlock("r1", 3 * MiB, 16),
      readBlock("r1", 17, 10),
      readBlock("r1", 0, 0),
      readBlock("r1", 0, MiB + 1),
      readBlock("r1", -1, 10),
      readBlock("r1", 0, 1.5),
      readBlock("r1", "0", 10),
      req("fs/readBlock", { handleId: "r1", offset: 0 }),
      req("fs/readBlock", { handleId: "r1", len: 5 }),
      open("e", "empty.txt"),
      readBlock("e", 0, 10),
      close("r1"),
      readBlock("r1", 0, 16),
      close("r1"),
      close("never-opened"),
      close(""),
      req("fs/close", {}),
    ],
  },
  {
    name: "fs/handles-open-errors-and-ids",
    setup: (d) => build(d, BASIC),
    steps: [
      ...ready(),
      open("x".repeat(32), "a.txt"),
      open("x".repeat(33), "a.txt"),
      open("é".repeat(16), "a.txt"),
      open("é".repeat(16) + "x", "a.txt"),
      open("", "a.txt"),
      readBlock("", 0, 100),
      open("h", "a.txt"),
      open("h", "a.txt"),
      open("h", "new.txt", "replace"),
      open("d", "dir"),
      open("f", "fifo"),
      open("m", "missing.txt"),
      open("l", "link-a"),
      readBlock("l", 0, 100),
      open("ld", "link-dir/b.txt"),
      open("dg", "dangling"),
      open("mode", "a.txt", "append"),
      open("mode2", "a.txt", "read"),
      open("mode3", "a.txt", null),
      open("rp", "nope/new.txt", "replace"),
      open("rd", "dir", "replace"),
      open(5, "a.txt"),
      req("fs/open", { handleId: "nopath" }),
      close("h"),
      open("h", "a.txt"),
      tree(),
    ],
  },
  {
    name: "fs/handles-limit-128",
    setup: (d) => build(d, BASIC),
    steps: [
      ...ready(),
      ...Array.from({ length: 100 }, (_, i) => open(`r${i}`, "a.txt")),
      ...Array.from({ length: 28 }, (_, i) => open(`w${i}`, `w${i}.txt`, "replace")),
      open("r128", "a.txt"),
      open("w128", "w128.txt", "replace"),
      close("r0"),
      open("r128", "a.txt"),
      open("r129", "a.txt"),
      // Handles are per connection: another connection has its own 128 and cannot see these.
      ...ready("c2"),
      req("fs/open", p("a.txt", { handleId: "r1" }), { conn: "c2" }),
      readBlock("r2", 0, 3, "c2"),
      tree(),
    ],
  },
  {
    name: "fs/handles-write",
    setup: (d) => build(d, { ...BASIC, "old.txt": "old content that is long" }),
    steps: [
      ...ready(),
      open("w", "old.txt", "replace"),
      tree(),
      writeBlock("w", 0, b64("hello ")),
      writeBlock("w", 6, b64("world\n")),
      writeBlock("w", 20, b64("after hole")),
      writeBlock("w", 0, b64("J")),
      writeBlock("w", 0, ""),
      writeBlock("w", 0, "aGk"),
      writeBlock("w", 0, "a!=="),
      writeBlock("w", 0, Buffer.alloc(MiB + 1, 1).toString("base64")),
      writeBlock("w", 3 * MiB, Buffer.alloc(MiB, 2).toString("base64")),
      readBlock("w", 0, 10),
      req("fs/readFile", p("old.txt")),
      close("w"),
      req("fs/getMetadata", p("old.txt")),
      writeBlock("w", 0, b64("x")),
      open("r", "a.txt"),
      writeBlock("r", 0, b64("x")),
      writeBlock("nope", 0, b64("x")),
      open("n", "fresh.txt", "replace"),
      writeBlock("n", 5, b64("x")),
      close("n"),
      req("fs/readFile", p("fresh.txt")),
      open("lk", "link-a", "replace"),
      writeBlock("lk", 0, b64("through link")),
      close("lk"),
      open("dg", "dangling", "replace"),
      close("dg"),
      tree(),
    ],
  },
  {
    name: "fs/handles-survive-replace-and-unlink",
    setup: (d) => build(d, { ...BASIC, "orig.txt": "original bytes", "gone.txt": "soon unlinked" }),
    steps: [
      ...ready(),
      open("o", "orig.txt"),
      open("g", "gone.txt"),
      open("w", "wgone.txt", "replace"),
      local("replace orig.txt by rename, unlink gone.txt and wgone.txt", (dir) => {
        writeFileSync(join(dir, "tmp-new"), "NEW");
        renameSync(join(dir, "tmp-new"), join(dir, "orig.txt"));
        unlinkSync(join(dir, "gone.txt"));
        unlinkSync(join(dir, "wgone.txt"));
      }),
      readBlock("o", 0, 100),
      readBlock("g", 0, 100),
      writeBlock("w", 0, b64("into the void")),
      readBlock("o", 9, 100),
      req("fs/readFile", p("orig.txt")),
      req("fs/close", { handleId: "o" }),
      tree(),
    ],
  },
  {
    name: "fs/handles-dropped-with-connection",
    setup: (d) => build(d, BASIC),
    steps: [
      ...ready(),
      open("h", "a.txt"),
      { kind: "close" },
      ...ready("c2"),
      readBlock("h", 0, 3, "c2"),
      req("fs/open", p("a.txt", { handleId: "h" }), { conn: "c2" }),
    ],
  },
];
