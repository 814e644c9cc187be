/**
 * The executor's one watch worker (watch-worker.ts), seen from the event
 * loop: started with the first watch, stopped once no process has had a
 * watch for WORKER_IDLE_MS, and replaced if it dies (every process's watches
 * are then dropped, as if unwatched: see `lost`).
 *
 * Which script the worker runs: from source, watch-worker.ts itself. In a
 * bundle (the compiled executable, the npm package's CLI) modules have no
 * files of their own and a worker entry placed beside the main one would be
 * found under a path that depends on the bundler's layout; so the worker
 * runs the bundle itself (`Bun.main`), whose entry (src/cli/main.ts) hands a
 * worker thread to watch-worker.ts.
 */
import type { FromWatchWorker, ToWatchWorker, WatchReport } from "./watch-messages.ts";

const FROM_SOURCE = import.meta.url.endsWith("/src/process/watch-engine.ts");

/**
 * How long an idle worker is kept. Starting one costs ~20 ms and a few MiB;
 * an orchestrator that sets a watch per command would otherwise pay that
 * each time.
 */
export const WORKER_IDLE_MS = 30_000;

/** One process's side of the conversation. */
export interface WatchPeer {
  receive(m: WatchReport): void;
  /** The worker died: every watch is gone, nothing in flight will be answered. */
  lost(): void;
}

export class WatchEngine {
  private worker: Worker | null = null;
  /** Messages for a worker that has not said `ready` yet. */
  private early: [ToWatchWorker, ArrayBuffer[]][] | null = null;
  private readonly peers = new Map<number, WatchPeer>();
  private lastKey = 0;
  private idleTimer: ReturnType<typeof setTimeout> | null = null;

  /** A key for a new process's watches, and its peer registered. */
  register(peer: WatchPeer): number {
    const key = ++this.lastKey;
    this.peers.set(key, peer);
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    return key;
  }

  /** The process has no watch left and nothing in flight. */
  unregister(key: number): void {
    this.peers.delete(key);
    if (this.peers.size === 0 && this.worker && !this.idleTimer) {
      this.idleTimer = setTimeout(() => this.stop(), WORKER_IDLE_MS);
      this.idleTimer.unref();
    }
  }

  post(m: ToWatchWorker, transfer: ArrayBuffer[] = []): void {
    const worker = this.started();
    if (this.early) this.early.push([m, transfer]);
    else worker.postMessage(m, transfer);
  }

  private started(): Worker {
    if (this.worker) return this.worker;
    const script = FROM_SOURCE ? new URL("./watch-worker.ts", import.meta.url).href : Bun.main;
    const worker = new Worker(script, { smol: true });
    // The executor's life is its listeners'; a worker alone keeps nothing running.
    worker.unref();
    this.early = [];
    worker.onmessage = (event: MessageEvent<FromWatchWorker>) => {
      const m = event.data;
      if (m.t !== "ready") return this.peers.get(m.key)?.receive(m);
      for (const [early, transfer] of this.early ?? []) worker.postMessage(early, transfer);
      this.early = null;
    };
    worker.onerror = () => this.fail(worker);
    worker.addEventListener("close", () => this.fail(worker));
    this.worker = worker;
    return worker;
  }

  private fail(worker: Worker): void {
    if (this.worker !== worker) return;
    this.worker = null;
    this.early = null;
    worker.terminate();
    const peers = [...this.peers.values()];
    this.peers.clear();
    for (const peer of peers) peer.lost();
  }

  private stop(): void {
    this.idleTimer = null;
    const worker = this.worker;
    if (!worker || this.peers.size > 0) return;
    this.worker = null;
    worker.terminate();
  }
}

/** The executor's engine: one worker for every session's watches. */
export const watchEngine = new WatchEngine();
