/**
 * Stand-ins for protected names that do not exist yet (`.git` in a fresh
 * workspace): an empty directory made on the host for as long as a sandbox
 * needs it, bound read-only inside so the command can create nothing there,
 * and removed afterwards if still empty — as the reference does. Counted, so
 * concurrent sandboxes over the same workspace share one stand-in.
 */
import { mkdirSync, rmdirSync } from "node:fs";
import type { FsView } from "./policy.ts";

const holders = new Map<string, number>();

/** Makes the view's missing protected names exist; returns what undoes it. */
export function holdPlaceholders(view: FsView | null): () => void {
  const held: string[] = [];
  for (const rule of view?.rules ?? []) {
    if (!rule.placeholder) continue;
    const count = holders.get(rule.path) ?? 0;
    if (count === 0) {
      try {
        mkdirSync(rule.path, { mode: 0o755 });
      } catch (e) {
        // Created meanwhile (by someone else): it exists, so it is masked read-only all the same.
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      }
    }
    holders.set(rule.path, count + 1);
    held.push(rule.path);
  }
  let done = false;
  return () => {
    if (done) return;
    done = true;
    for (const path of held) {
      const left = (holders.get(path) ?? 1) - 1;
      if (left > 0) {
        holders.set(path, left);
        continue;
      }
      holders.delete(path);
      try {
        rmdirSync(path); // only if still empty: whatever was put there stays
      } catch {
        // Not empty or already gone.
      }
    }
  };
}
