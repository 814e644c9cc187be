/**
 * The JSON-RPC envelope as the reference speaks it: no `"jsonrpc"` member on
 * output, ids echoed byte-for-byte (64-bit integers included), batches and
 * non-objects rejected. A response from the client answers one of the
 * server's own requests (src/server/client-requests.ts).
 */
import { type TraceContext, traceContextOf } from "./trace-context.ts";
import type { LentFrame } from "./byte-frame.ts";
import { moreValuesThan, parseWireJson, stringEnd } from "./json-numbers.ts";
import { describeJsonSyntaxError } from "./json-syntax.ts";
import { describeValue } from "./serde.ts";

/** A request id kept as its JSON text so 64-bit integers round-trip exactly. */
export type RequestId = { readonly json: string };

/** The id the reference uses when a message could not be parsed at all. */
export const UNPARSEABLE_ID: RequestId = { json: "-1" };

export type Incoming =
  | { kind: "request"; id: RequestId; method: string; params: unknown; trace?: TraceContext }
  | { kind: "notification"; method: string; params: unknown }
  /** `id` undefined: not an id the reference reads (a float, a 64-bit overflow). `hasResult`: it carries `result` (then `error` is ignored, as serde picks the first matching variant). */
  | { kind: "response"; id: RequestId | undefined; hasResult: boolean; result?: unknown }
  | { kind: "malformed"; detail: string };

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;

/** Parses one message; more than `maxValues` JSON values in it make it malformed, unparsed. */
export function parseIncoming(text: string, maxValues = Number.POSITIVE_INFINITY): Incoming {
  if (moreValuesThan(text, maxValues)) return { kind: "malformed", detail: `more than ${maxValues} JSON values in one message` };
  let value: unknown;
  try {
    value = parseWireJson(text);
  } catch {
    return { kind: "malformed", detail: describeJsonSyntaxError(text) };
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return { kind: "malformed", detail: "expected a JSON-RPC object" };
  }
  const msg = value as Record<string, unknown>;
  const hasId = "id" in msg;
  if (typeof msg.method === "string") {
    if (!hasId) return { kind: "notification", method: msg.method, params: msg.params ?? null };
    const id = requestId(text, msg.id);
    if (!id) return { kind: "malformed", detail: "data did not match any variant of untagged enum RequestId" };
    const trace = traceContextOf(msg.trace);
    return trace ? { kind: "request", id, method: msg.method, params: msg.params ?? null, trace } : { kind: "request", id, method: msg.method, params: msg.params ?? null };
  }
  if ("method" in msg) return { kind: "malformed", detail: `invalid type: ${describeValue(msg.method)}, expected a string` };
  if (hasId && "result" in msg) return { kind: "response", id: requestId(text, msg.id), hasResult: true, result: msg.result };
  if (hasId && "error" in msg) return { kind: "response", id: requestId(text, msg.id), hasResult: false };
  return { kind: "malformed", detail: "missing field `error`" };
}

function requestId(text: string, parsed: unknown): RequestId | undefined {
  if (typeof parsed === "string") return { json: JSON.stringify(parsed) };
  if (typeof parsed !== "number") return undefined;
  const raw = rawTopLevelValue(text, "id");
  if (raw === undefined || !/^-?(0|[1-9][0-9]*)$/.test(raw)) return undefined;
  const n = BigInt(raw);
  return n >= I64_MIN && n <= I64_MAX ? { json: raw } : undefined;
}

/**
 * The source text of a top-level member's value, found by scanning the (already
 * valid) JSON. Clients put `id` first, so the scan usually stops within a few
 * bytes; strings are skipped with `indexOf`, never char by char.
 */
function rawTopLevelValue(text: string, key: string): string | undefined {
  let depth = 0;
  let expectKey = false;
  let lastKey: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const end = stringEnd(text, i);
      if (depth === 1 && expectKey) lastKey = JSON.parse(text.slice(i, end + 1)) as string;
      i = end;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      depth++;
      expectKey = c === 0x7b && depth === 1;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    } else if (c === 0x2c /* , */ && depth === 1) {
      expectKey = true;
    } else if (c === 0x3a /* : */ && depth === 1) {
      expectKey = false;
      if (lastKey === key) {
        const m = /^\s*(-?[0-9][0-9.eE+-]*)/.exec(text.slice(i + 1, i + 64));
        return m?.[1];
      }
    }
  }
  return undefined;
}

/**
 * A result that writes its own response (`{"id":…,"result":…}`), as text or
 * as a byte frame: results made mostly of base64 skip JSON.stringify and the
 * string altogether (see `fs/base64-result.ts`). It must still read as the
 * plain result object (`toJSON`).
 */
export abstract class SelfEncodingResult {
  abstract response(idJson: string): string | LentFrame;
}

/** The reply frame: JSON text, or a lent byte frame for a self-encoding result (send it before encoding another). */
export function encodeResult(id: RequestId, result: unknown): string | LentFrame {
  if (result instanceof SelfEncodingResult) return result.response(id.json);
  return `{"id":${id.json},"result":${JSON.stringify(result)}}`;
}

export function encodeError(id: RequestId, code: number, message: string, data?: unknown): string {
  const dataMember = data === undefined ? "" : `"data":${JSON.stringify(data)},`;
  return `{"error":{"code":${code},${dataMember}"message":${JSON.stringify(message)}},"id":${id.json}}`;
}

export function encodeNotification(method: string, params: unknown): string {
  return `{"method":${JSON.stringify(method)},"params":${JSON.stringify(params)}}`;
}
