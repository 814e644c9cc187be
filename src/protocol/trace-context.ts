/**
 * W3C trace context (https://www.w3.org/TR/trace-context/) carried with a
 * request: a JSON-RPC `trace` member (the reference accepts
 * `{"traceparent":"00-…"}`) or, in remote mode, a relay data frame's
 * `traceparent`/`tracestate`. Only well-formed values are kept; anything else
 * is ignored, never an error (the reference accepts the member either way).
 */
export type TraceContext = { traceparent: string; tracestate?: string };

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/;
/** The spec's bound on `tracestate` (32 members of at most 256 bytes is its own limit; 512 is what vendors keep). */
export const MAX_TRACESTATE_LENGTH = 512;

/** The trace context in `value` (an object with string members), or undefined. */
export function traceContextOf(value: unknown): TraceContext | undefined {
  if (value === null || typeof value !== "object") return undefined;
  const { traceparent, tracestate } = value as Record<string, unknown>;
  if (typeof traceparent !== "string") return undefined;
  const m = TRACEPARENT.exec(traceparent);
  // Version ff is invalid; an all-zero trace or parent id means "none".
  if (!m || m[1] === "ff" || /^0+$/.test(m[2]!) || /^0+$/.test(m[3]!)) return undefined;
  return typeof tracestate === "string" && tracestate.length <= MAX_TRACESTATE_LENGTH ? { traceparent, tracestate } : { traceparent };
}
