/**
 * The remote-only measurements of `bench/remote.ts`: what a Noise stream
 * costs the executor to open, and what happens to requests and streams that
 * arrive all at once (remote.md §5.8: the reference queues at most 128
 * messages per stream and validates at most 32 streams at a time).
 */
import type { BenchClient } from "./client.ts";
import { cpuSeconds, withTimeout } from "./measure.ts";
import { type Relay, type RemoteExecutor, harnessConnector, openStream } from "./remote-executors.ts";

/** How long a request or a stream open of a burst may take before it counts as lost. */
const BURST_DEADLINE_MS = 20_000;

export type HandshakeResult = { streams: number; perSecond: number; executorCpuMsPerStream: number };

/**
 * `count` streams opened one after another (registry connect, relay dial,
 * hybridIK handshake, executor's validate call) and closed again with a
 * reset; no initialize. The executor's utime+stime over the whole loop, per
 * stream.
 */
export async function measureHandshakes(relay: Relay, executor: RemoteExecutor, count: number, warmup = 0): Promise<HandshakeResult> {
  // Not measured: a deployed executor is long-running, so the figure is its steady state, not its first streams' JIT.
  for (let i = 0; i < warmup; i++) await (await withTimeout(relay.connector.open({ message: () => {}, closed: () => {} }), BURST_DEADLINE_MS, `warm-up stream ${i}`)).close();
  const cpu0 = cpuSeconds(executor.pid);
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    const channel = await withTimeout(relay.connector.open({ message: () => {}, closed: () => {} }), BURST_DEADLINE_MS, `stream ${i}`);
    await channel.close();
  }
  const seconds = (performance.now() - t0) / 1000;
  return { streams: count, perSecond: count / seconds, executorCpuMsPerStream: ((cpuSeconds(executor.pid) - cpu0) * 1000) / count };
}

/** How a burst ended: how many succeeded, and each distinct failure with its count. */
export type Burst = { sent: number; ok: number; failures: Record<string, number> };

function tally(settled: PromiseSettledResult<unknown>[]): Burst {
  const failures: Record<string, number> = {};
  for (const s of settled) {
    if (s.status === "fulfilled") continue;
    // Ids and UUIDs differ per failure; the kind of failure is what counts.
    const why = String((s.reason as Error)?.message ?? s.reason).replace(/[0-9a-f-]{36}/g, "<id>");
    failures[why] = (failures[why] ?? 0) + 1;
  }
  return { sent: settled.length, ok: settled.filter((s) => s.status === "fulfilled").length, failures };
}

export function describeBurst(b: Burst): string {
  const lost = Object.entries(b.failures).map(([why, n]) => `${n}× ${why}`);
  return `${b.ok} of ${b.sent} answered${lost.length ? `; ${lost.join("; ")}` : ""}`;
}

/** `count` requests written to one stream at once, before any answer is read. */
export async function pipelined(client: BenchClient, count: number, method: string, params: (i: number) => unknown): Promise<Burst> {
  const calls = Array.from({ length: count }, (_, i) => withTimeout(client.request(method, params(i)), BURST_DEADLINE_MS, `${method} ${i}`));
  return tally(await Promise.allSettled(calls));
}

/** `count` streams opened at once, each initialized; all closed afterwards. */
export async function concurrentStreams(relay: Relay, count: number): Promise<Burst> {
  // A connector each: streams beside each other, not each replacing the one before.
  const opens = Array.from({ length: count }, () => withTimeout(openStream(relay, harnessConnector(relay.registryUrl)), BURST_DEADLINE_MS, "stream open"));
  const settled = await Promise.allSettled(opens);
  for (const s of settled) if (s.status === "fulfilled") s.value.close();
  return tally(settled);
}
