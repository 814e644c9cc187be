/**
 * Stand-ins for paths a sandbox must hold but that do not exist yet (`.git`
 * in a fresh workspace, a denied or read-only path under a writable root): an
 * empty directory or file made on the host for as long as a sandbox needs it,
 * bound read-only (or masked) inside so the command cannot create it, and
 * removed afterwards if still empty — as the reference does. Counted, so
 * concurrent sandboxes over the same workspace share one stand-in.
 */
import { closeSync, mkdirSync, openSync, rmdirSync, statSync, unlinkSync, constants } from "node:fs";
import type { FsView, PathRule } from "./policy.ts";

/** Stand-ins in use: how many sandboxes hold each, and whether execbox made it (only those are removed). */
const holders = new Map<string, { count: number; made: boolean }>();

/** Makes the view's missing paths exist as stand-ins; returns what undoes it. */
export function holdPlaceholders(view: FsView | null): () => void {
  const held: PathRule[] = [];
  for (const rule of view?.rules ?? []) {
    if (!rule.placeholder) continue;
    const holder = holders.get(rule.path) ?? { count: 0, made: makeStandIn(rule.path, rule.placeholder) };
    holder.count++;
    holders.set(rule.path, holder);
    held.push(rule);
  }
  let done = false;
  return () => {
    if (done) return;
    done = true;
    for (const rule of held) {
      const holder = holders.get(rule.path);
      if (!holder || --holder.count > 0) continue;
      holders.delete(rule.path);
      if (holder.made) removeIfEmpty(rule.path, rule.placeholder!);
    }
  };
}

/** True if this call made it; false if it appeared meanwhile (then it is masked all the same, and left alone after). */
function makeStandIn(path: string, kind: "dir" | "file"): boolean {
  try {
    if (kind === "dir") mkdirSync(path, { mode: 0o755 });
    else closeSync(openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o444));
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw e;
  }
}

/** Only an empty stand-in goes: whatever was put there meanwhile stays. */
function removeIfEmpty(path: string, kind: "dir" | "file"): void {
  try {
    if (kind === "dir") rmdirSync(path);
    else {
      const st = statSync(path);
      if (st.isFile() && st.size === 0) unlinkSync(path);
    }
  } catch {
    // Not empty, or already gone.
  }
}
