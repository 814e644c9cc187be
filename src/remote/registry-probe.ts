/**
 * `execbox doctor --remote URL`: can this machine reach the environment
 * registry? Any HTTP answer counts as reachable (the probe sends no
 * credentials, so a 401 or 404 is expected); only a transport failure or no
 * answer in time is not. Sends a plain GET to the registry URL and nothing
 * else: no registration, no key.
 */

/** How long the probe waits for any answer: the registry client's own connect budget. */
export const REGISTRY_PROBE_TIMEOUT_MS = 5_000;

export type RegistryProbe = { url: string; reachable: boolean; status?: number; error?: string; ms: number };

export async function probeRegistry(url: string): Promise<RegistryProbe> {
  const started = performance.now();
  const ms = () => Math.round(performance.now() - started);
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return { url, reachable: false, error: "not a URL", ms: 0 };
  }
  if (target.protocol !== "http:" && target.protocol !== "https:") {
    return { url, reachable: false, error: `unsupported scheme ${target.protocol}`, ms: 0 };
  }
  try {
    const res = await fetch(target, { method: "GET", redirect: "manual", signal: AbortSignal.timeout(REGISTRY_PROBE_TIMEOUT_MS) });
    await res.body?.cancel();
    return { url, reachable: true, status: res.status, ms: ms() };
  } catch (e) {
    const error = (e as Error).name === "TimeoutError" ? `no answer within ${REGISTRY_PROBE_TIMEOUT_MS} ms` : (e as Error).message;
    return { url, reachable: false, error, ms: ms() };
  }
}

export function formatProbe(p: RegistryProbe): string {
  return p.reachable
    ? `registry          reachable — HTTP ${p.status} from ${p.url} in ${p.ms} ms`
    : `registry          NOT reachable — ${p.url}: ${p.error}`;
}
