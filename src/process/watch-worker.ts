/**
 * The watch worker's entry: matching runs on this thread, so a pattern that
 * is slow on some output (RE2 is linear, but can cost ~17 µs a byte) never
 * holds the executor's event loop, where every session's I/O runs. Says
 * `ready` once it listens: messages that arrive before are not delivered.
 */
import { WatchMatcher } from "./watch-matcher.ts";
import type { FromWatchWorker, ToWatchWorker } from "./watch-messages.ts";

/** Matching done per turn before the thread looks at new messages (a new watch waits at most about this, plus one line). */
const TURN_MS = 5;

declare const self: Worker;

const matcher = new WatchMatcher((m: FromWatchWorker) => self.postMessage(m));
let scheduled = false;

function run(): void {
  scheduled = false;
  if (matcher.work(TURN_MS)) schedule();
}

function schedule(): void {
  if (scheduled) return;
  scheduled = true;
  // Not setTimeout(0): Bun clamps it to ~1.1 ms, a fifth of each turn. Messages are still delivered between immediates.
  setImmediate(run);
}

self.onmessage = (event: MessageEvent<ToWatchWorker>) => {
  matcher.receive(event.data);
  schedule();
};
self.postMessage({ t: "ready" } satisfies FromWatchWorker);
