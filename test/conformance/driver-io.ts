/**
 * The driver's helpers: frame predicates, params resolution, and the
 * unrecorded I/O (end-of-scenario cleanup, the plain HTTP probe of the listener).
 */
import type { RawClient } from "../helpers/rpc-client.ts";
import type { Ctx, Step } from "./types.ts";

type Frame = Record<string, any>;

export const isProcessEvent = (f: Frame) => typeof f.method === "string" && f.method.startsWith("process/") && !("id" in f);
/** Notifications that belong to an earlier request (recorded by awaitProcess / awaitStream / awaitNotify), never a reply. */
export const isAsyncEvent = (f: Frame) => isProcessEvent(f) || (!("id" in f) && (f.method === "http/request/bodyDelta" || f.method === "fs/missingChanged"));
export const isDelta = (f: Frame, requestId: string) => f.method === "http/request/bodyDelta" && !("id" in f) && f.params?.requestId === requestId;
/** Params with functions of the context resolved at any depth. */
export const resolveDeep = (v: unknown, ctx: Ctx): unknown => {
  if (typeof v === "function") return resolveDeep(v(ctx), ctx);
  if (Array.isArray(v)) return v.map((x) => resolveDeep(x, ctx));
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolveDeep(x, ctx)]));
  return v;
};

type Conn = { client: RawClient; ready: boolean };

/** Unrecorded: terminate whatever the scenario started, then close every connection. */
export async function cleanup(conns: Conn[], started: Set<string>): Promise<void> {
  for (const c of conns) {
    if (c.client.closed || !c.ready) continue;
    for (const pid of started) c.client.request("process/terminate", { processId: pid }, `cleanup-${pid}`);
    const deadline = Date.now() + 2_000;
    while (!c.client.closed && Date.now() < deadline && started.size > 0) {
      const done = [...started].every((pid) => c.client.texts.some((t) => t.includes(`"cleanup-${pid}"`)));
      if (done) break;
      await Bun.sleep(5);
    }
  }
  for (const c of conns) if (!c.client.closed) c.client.close();
}

const HTTP_HEADERS = ["content-type", "content-length", "allow", "upgrade", "sec-websocket-accept"];

export async function httpProbe(base: string, step: Extract<Step, { kind: "http" }>): Promise<string> {
  try {
    const res = await fetch(base + step.path, {
      method: step.method,
      headers: step.headers,
      redirect: "manual",
      signal: AbortSignal.timeout(5_000),
    });
    const headers = Object.fromEntries(HTTP_HEADERS.flatMap((h) => (res.headers.has(h) ? [[h, res.headers.get(h)]] : [])));
    return `${res.status} ${JSON.stringify(headers)} body=${JSON.stringify(await res.text())}`;
  } catch (e) {
    return `request failed: ${(e as Error).name}`;
  }
}
