/** Jittered exponential backoff for re-dialling the rendezvous (remote.md §3). */
import { RELAY_RECONNECT_BASE_MS, RELAY_RECONNECT_MAX_MS } from "./limits.ts";

/**
 * Delay before reconnect attempt `attempt` (0 for the first after a close):
 * d = min(base · 2^attempt, max), then a random point in [d/2, d) so many
 * executors dropped together do not re-dial in step.
 * @param random a value in [0, 1) (Math.random by default; tests inject one)
 */
export function reconnectDelayMs(attempt: number, random: () => number = Math.random, baseMs = RELAY_RECONNECT_BASE_MS, maxMs = RELAY_RECONNECT_MAX_MS): number {
  const ceiling = Math.min(baseMs * 2 ** Math.min(attempt, 30), maxMs);
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
