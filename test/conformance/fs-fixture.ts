/**
 * Building the files fs/* scenarios work on, always inside the scenario temp
 * dir. Symlinks are relative and point inside it, so no operation that
 * follows them can ever reach outside.
 */
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, isAbsolute, join } from "node:path";
import type { Ctx, ParamsVal } from "./types.ts";

/** A file's content, a `{ link }` (relative target), `{ dir }`, `{ fifo }`, or raw bytes. */
export type Entry = string | Uint8Array | { link: string } | { dir: true } | { fifo: true };

function assertInside(dir: string, rel: string): string {
  if (isAbsolute(rel) || rel.split("/").includes("..")) throw new Error(`fixture path ${rel} must stay inside the temp dir`);
  return join(dir, rel);
}

/** Creates `spec` (relative path → entry) in order; parents are created as needed. */
export function build(dir: string, spec: Record<string, Entry>): void {
  for (const [rel, e] of Object.entries(spec)) {
    const path = assertInside(dir, rel);
    mkdirSync(dirname(path), { recursive: true });
    if (typeof e === "string" || e instanceof Uint8Array) writeFileSync(path, e);
    else if ("link" in e) {
      if (isAbsolute(e.link)) throw new Error(`fixture link ${rel} must be relative`);
      symlinkSync(e.link, path);
    } else if ("dir" in e) mkdirSync(path, { recursive: true });
    else {
      const r = Bun.spawnSync(["mkfifo", path]);
      if (r.exitCode !== 0) throw new Error(`mkfifo ${path} failed`);
    }
  }
}

/** The common small tree most fs scenarios start from. */
export const BASIC: Record<string, Entry> = {
  "a.txt": "hello\n",
  "empty.txt": "",
  "bin.dat": new Uint8Array([0, 255, 1, 2, 0x80]),
  "dir/b.txt": "bee",
  "dir/sub": { dir: true },
  "emptydir": { dir: true },
  "link-a": { link: "a.txt" },
  "link-dir": { link: "dir" },
  "dangling": { link: "nope.txt" },
  "fifo": { fifo: true },
};

export const setupBasic = (dir: string) => build(dir, BASIC);

/** `file://` URI of `rel` inside the temp dir ("" = the dir itself); `rel` is appended verbatim. */
export const at = (rel = "") => (ctx: Ctx): string => (rel ? `${ctx.uri}/${rel}` : ctx.uri);

/** `{ path: <uri of rel>, ...extra }`. */
export const p = (rel: string, extra: Record<string, unknown> = {}): ParamsVal => ({ path: at(rel), ...extra });
