/**
 * `fs/watchMissing`: tells the client once (`fs/missingChanged`) when any of
 * the watched paths, or a missing directory on the way to one, comes into
 * existence (as the reference: creating `a/` fires a watch on `a/b/c`). Each
 * path is watched through its nearest existing ancestor. Watches belong to
 * the connection and end with it.
 */
import { type FSWatcher, existsSync, statSync, watch } from "node:fs";
import { dirname } from "node:path";

/** Watches per connection; more are answered `watching: false`. */
export const MAX_WATCHES_PER_CONNECTION = 256;
/**
 * Besides inotify, each watch re-checks its paths this often: Bun sets up a
 * new directory watch asynchronously, so a path created right then could
 * otherwise be missed forever.
 */
export const WATCH_RECHECK_MS = 250;

type Watch = {
  missing: string[];
  /** Each path's nearest existing ancestor when the watch began; a change fires. */
  anchors: (string | undefined)[];
  watchers: Map<string, FSWatcher>;
  recheck?: Timer;
};

export class MissingWatches {
  private readonly active = new Map<number, Watch>();
  private readonly usedIds = new Set<number>();

  constructor(private readonly fired: (watchId: number) => void) {}

  add(watchId: number, present: string | null, missing: string[]): { watching: boolean } {
    const reused = this.usedIds.has(watchId);
    // An id is spent by any attempt, refused or not (as the reference).
    this.usedIds.add(watchId);
    if (reused || missing.length === 0 || this.active.size >= MAX_WATCHES_PER_CONNECTION) return { watching: false };
    if (present !== null && !existsSync(present)) return { watching: false };
    if (missing.some((p) => existsSync(p))) return { watching: false };
    const w: Watch = { missing, anchors: missing.map(nearestExistingDir), watchers: new Map() };
    this.active.set(watchId, w);
    w.recheck = setInterval(() => this.active.has(watchId) && this.arm(watchId, w), WATCH_RECHECK_MS);
    w.recheck.unref();
    this.arm(watchId, w);
    return { watching: true };
  }

  /**
   * Watches the nearest existing ancestor of each path, then checks whether a
   * path exists: checking after the watch is in place means a path created
   * while we were re-arming is never missed.
   */
  private arm(watchId: number, w: Watch): void {
    const anchors = w.missing.map(nearestExistingDir);
    const wanted = new Set(anchors.filter((d): d is string => d !== undefined));
    // Watchers on ancestors no longer needed stay until the watch ends: closing a
    // watcher from inside its own event callback can lose the new watcher's events.
    for (const dir of wanted) {
      if (w.watchers.has(dir)) continue;
      try {
        w.watchers.set(dir, watch(dir, () => this.active.has(watchId) && this.arm(watchId, w)));
      } catch {
        // The directory vanished between the check and the watch; the next event re-arms.
      }
    }
    if (w.missing.some((p) => existsSync(p)) || anchors.some((a, i) => a !== w.anchors[i])) this.fire(watchId);
  }

  private fire(watchId: number): void {
    this.stop(watchId);
    this.fired(watchId);
  }

  private stop(watchId: number): void {
    const w = this.active.get(watchId);
    this.active.delete(watchId);
    clearInterval(w?.recheck);
    for (const watcher of w?.watchers.values() ?? []) watcher.close();
  }

  closeAll(): void {
    for (const id of [...this.active.keys()]) this.stop(id);
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function nearestExistingDir(path: string): string | undefined {
  let dir = dirname(path);
  for (;;) {
    if (isDirectory(dir)) return dir;
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}
