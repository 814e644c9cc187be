/** W3C trace context on requests: kept when well-formed, ignored (never an error) otherwise. */
import { expect, test } from "bun:test";
import { parseIncoming } from "../../src/protocol/envelope.ts";
import { MAX_TRACESTATE_LENGTH, traceContextOf } from "../../src/protocol/trace-context.ts";

const PARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

test("a well-formed traceparent is kept, with its tracestate", () => {
  expect(traceContextOf({ traceparent: PARENT })).toEqual({ traceparent: PARENT });
  expect(traceContextOf({ traceparent: PARENT, tracestate: "vendor=abc" })).toEqual({ traceparent: PARENT, tracestate: "vendor=abc" });
  expect(traceContextOf({ traceparent: PARENT, tracestate: "x".repeat(MAX_TRACESTATE_LENGTH + 1) })).toEqual({ traceparent: PARENT });
});

test("malformed trace context is ignored", () => {
  for (const bad of [
    null,
    "00-…",
    {},
    { traceparent: 7 },
    { traceparent: PARENT.toUpperCase() },
    { traceparent: PARENT.replace(/^00/, "ff") },
    { traceparent: `00-${"0".repeat(32)}-00f067aa0ba902b7-01` },
    { traceparent: `00-4bf92f3577b34da6a3ce929d0e0e4736-${"0".repeat(16)}-01` },
    { traceparent: `${PARENT}-extra` },
  ]) {
    expect(traceContextOf(bad)).toBeUndefined();
  }
});

test("a request's `trace` member travels with it; a bad one leaves the request as it was", () => {
  const withTrace = parseIncoming(JSON.stringify({ id: 1, method: "environment/status", trace: { traceparent: PARENT } }));
  expect(withTrace).toEqual({ kind: "request", id: { json: "1" }, method: "environment/status", params: null, trace: { traceparent: PARENT } });
  const bad = parseIncoming(JSON.stringify({ id: 1, method: "environment/status", trace: "nope" }));
  expect(bad).toEqual({ kind: "request", id: { json: "1" }, method: "environment/status", params: null });
});
