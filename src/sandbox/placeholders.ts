/**
 * Stand-ins for paths a sandbox must hold but that do not exist yet (`.git`
 * in a fresh workspace, a denied or read-only path under a writable root): an
 * empty directory or file made on the host for as long as a sandbox needs it,
 * bound read-only (or masked) inside so the command cannot create it, and
 * removed afterwards if still empty — as the reference does. Counted, so
 * concurrent sandboxes over the same workspace share one stand-in. Made and
 * removed without following symlinks below the writable root (beneath.ts):
 * one planted on the way refuses the launch.
 */
import { makeBeneath, removeBeneath } from "./beneath.ts";
import type { FsView, PathRule } from "./policy.ts";

/** Stand-ins in use: how many sandboxes hold each, and whether execbox made it (only those are removed). */
const holders = new Map<string, { count: number; made: boolean }>();

/** Makes the view's missing paths exist as stand-ins; returns what undoes it. If one cannot be made, those made are undone and it throws. */
export function holdPlaceholders(view: FsView | null): () => void {
  const held: PathRule[] = [];
  let done = false;
  const release = () => {
    if (done) return;
    done = true;
    for (const { path, placeholder } of held) {
      const holder = holders.get(path);
      if (!holder || --holder.count > 0) continue;
      holders.delete(path);
      if (holder.made) removeBeneath(placeholder!.root, path, placeholder!.kind);
    }
  };
  try {
    for (const rule of view?.rules ?? []) {
      if (!rule.placeholder) continue;
      const holder = holders.get(rule.path) ?? { count: 0, made: makeBeneath(rule.placeholder.root, rule.path, rule.placeholder.kind) };
      holder.count++;
      holders.set(rule.path, holder);
      held.push(rule);
    }
  } catch (e) {
    release();
    throw e;
  }
  return release;
}
