/**
 * `fs/watchMissing`: tells the client once (`fs/missingChanged`) when any of
 * the watched paths, or a missing directory on the way to one, comes into
 * existence (as the reference: creating `a/` fires a watch on `a/b/c`). Each
 * path is watched through its nearest existing ancestor (its anchor). Watches
 * belong to the connection and end with it.
 *
 * Checking a path costs at most three stats, whatever its depth: it exists,
 * its anchor is gone, or the directory one level below its anchor on the way
 * to it exists (only then can the nearest existing ancestor have moved down).
 */
import { type FSWatcher, existsSync, lstatSync, statSync, watch } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import { ErrorCode, RpcError, invalidParams } from "../protocol/errors.ts";
import { type NativePath, byteText, fromByteText, parsePathUri } from "../protocol/path-uri.ts";

/** Paths in one watch; more are answered `watching: false`, as the reference does (measured on 0.169.0). */
export const MAX_PATHS_PER_WATCH = 64;
/** Active watches per connection (each holds directory watches); more are -32602. */
export const MAX_WATCHES_PER_CONNECTION = 256;
/**
 * Watched paths per connection, over all its watches; more are -32602. One
 * watch of 20,000 paths re-checked every 250 ms once took a core and made
 * every other connection wait seconds.
 */
export const MAX_WATCHED_PATHS_PER_CONNECTION = 1024;
/**
 * Besides inotify, the connection's paths are re-checked in turn, this often:
 * Bun sets up a new directory watch asynchronously, so a path created right
 * then could otherwise be missed forever.
 */
export const WATCH_RECHECK_MS = 250;
/** Paths re-checked per tick (≤ 3 stats each), so a full round of the per-connection maximum takes 1 s. */
export const WATCH_RECHECK_PATHS_PER_TICK = 256;

/** One watched path: `anchor` is its nearest existing ancestor when the watch began, `below` the next step towards it. */
type Target = { watchId: number; path: NativePath; anchor: NativePath | undefined; below: NativePath };

type Watch = { targets: Target[]; watchers: FSWatcher[]; checkQueued: boolean };

export class MissingWatches {
  private readonly active = new Map<number, Watch>();
  /** The highest watch id spent on this connection; a new watch needs a higher one. */
  private highestId = 0;
  /** Every watched path of the connection, re-checked in turn from `next`. */
  private targets: Target[] = [];
  private next = 0;
  private recheckTimer: Timer | undefined;
  /** Paths checked so far (tests bound the cost of a tick with it). */
  checks = 0;

  constructor(private readonly fired: (watchId: number) => void) {}

  /**
   * As the reference: ids must rise strictly per connection (0 never watches),
   * and an id is spent by any attempt that parses, refused or not; paths are
   * taken as written, so a symlink anywhere in `present` or a `missing` path
   * refuses the watch, as does a file URI of another host.
   */
  add(watchId: number, presentUri: string | null | undefined, missingUris: string[]): { watching: boolean } {
    const present = presentUri == null ? undefined : localPath(presentUri);
    const missing = missingUris.map(localPath);
    if (missing.length <= MAX_PATHS_PER_WATCH) this.checkCaps(missing.length);
    const stale = watchId <= this.highestId;
    this.highestId = Math.max(this.highestId, watchId);
    if (stale || missing.length === 0 || missing.length > MAX_PATHS_PER_WATCH) return { watching: false };
    if (present === null || (present !== undefined && linkFree(present) !== "exists")) return { watching: false };
    if (!missing.every((p): p is string => p !== null && linkFree(p) === "absent")) return { watching: false };
    const w: Watch = { targets: missing.map((path) => target(watchId, path)), watchers: [], checkQueued: false };
    this.active.set(watchId, w);
    this.targets.push(...w.targets);
    for (const dir of new Set(w.targets.map((t) => t.anchor).filter((d) => d !== undefined))) {
      try {
        w.watchers.push(watch(dir, () => this.queueCheck(watchId, w)));
      } catch {
        // The directory vanished since its anchor was found: the check below fires.
      }
    }
    // Checked after the watches are in place, so a path created meanwhile is never missed.
    if (w.targets.some((t) => this.changed(t))) this.fire(watchId);
    else this.recheckTimer ??= setInterval(() => this.recheck(), WATCH_RECHECK_MS).unref();
    return { watching: true };
  }

  private checkCaps(adding: number): void {
    if (this.active.size >= MAX_WATCHES_PER_CONNECTION) {
      throw invalidParams(`fs/watchMissing: at most ${MAX_WATCHES_PER_CONNECTION} watches may be active per connection`);
    }
    if (this.targets.length + adding > MAX_WATCHED_PATHS_PER_CONNECTION) {
      throw invalidParams(
        `fs/watchMissing: at most ${MAX_WATCHED_PATHS_PER_CONNECTION} paths may be watched per connection (${this.targets.length} are, ${adding} more asked)`,
      );
    }
  }

  /** A directory event: one check of the watch on the next turn, however many events arrive meanwhile. */
  private queueCheck(watchId: number, w: Watch): void {
    if (w.checkQueued) return;
    w.checkQueued = true;
    setImmediate(() => {
      w.checkQueued = false;
      if (this.active.get(watchId) === w && w.targets.some((t) => this.changed(t))) this.fire(watchId);
    });
  }

  /** One tick: the next WATCH_RECHECK_PATHS_PER_TICK paths of the connection, in turn. */
  recheck(): void {
    for (let i = Math.min(WATCH_RECHECK_PATHS_PER_TICK, this.targets.length); i > 0 && this.targets.length > 0; i--) {
      if (this.next >= this.targets.length) this.next = 0;
      const t = this.targets[this.next++]!;
      if (this.changed(t)) this.fire(t.watchId);
    }
  }

  private changed(t: Target): boolean {
    this.checks++;
    if (existsSync(t.path)) return true;
    if (t.anchor === undefined) return false;
    return !isDirectory(t.anchor) || isDirectory(t.below);
  }

  private fire(watchId: number): void {
    this.stop(watchId);
    this.fired(watchId);
  }

  private stop(watchId: number): void {
    const w = this.active.get(watchId);
    if (!w) return;
    this.active.delete(watchId);
    this.targets = this.targets.filter((t) => t.watchId !== watchId);
    for (const watcher of w.watchers) watcher.close();
    if (this.active.size === 0) {
      clearInterval(this.recheckTimer);
      this.recheckTimer = undefined;
    }
  }

  closeAll(): void {
    for (const id of [...this.active.keys()]) this.stop(id);
  }
}

/** The path of a file URI, or null for one naming another host (-32600 from the parser); malformed URIs stay errors. */
function localPath(uri: string): NativePath | null {
  try {
    return parsePathUri(uri);
  } catch (e) {
    if (e instanceof RpcError && e.code === ErrorCode.InvalidRequest) return null;
    throw e;
  }
}

/** Whether `path` exists, checked component by component without following any symlink ("link" if one is met). */
function linkFree(path: NativePath): "exists" | "absent" | "link" {
  let current = "";
  // Component by component on `byteText`, exact for a path that is not UTF-8.
  for (const part of byteText(path).split(sep).filter(Boolean)) {
    current += sep + part;
    let st;
    try {
      st = lstatSync(fromByteText(current), { throwIfNoEntry: false });
    } catch {
      return "absent"; // under a file (ENOTDIR) or unreadable: not there for this check
    }
    if (!st) return "absent";
    if (st.isSymbolicLink()) return "link";
  }
  return "exists";
}

function target(watchId: number, path: NativePath): Target {
  // Path arithmetic on `byteText`, exact for a path that is not UTF-8.
  const anchor = nearestExistingDir(byteText(path));
  if (anchor === undefined) return { watchId, path, anchor, below: path };
  const step = relative(anchor, byteText(path)).split(sep)[0]!;
  return { watchId, path, anchor: fromByteText(anchor), below: fromByteText(join(anchor, step)) };
}

function isDirectory(path: NativePath): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function nearestExistingDir(path: string): string | undefined {
  let dir = dirname(path);
  for (;;) {
    if (isDirectory(fromByteText(dir))) return dir;
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}
