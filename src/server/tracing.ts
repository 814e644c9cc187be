/**
 * Request tracing, off unless an OTLP endpoint is configured. The
 * OpenTelemetry SDK lives in ./otel.ts and is imported only then, so an
 * executor without `OTEL_EXPORTER_OTLP_ENDPOINT` (or `…_TRACES_ENDPOINT`)
 * loads none of it and a request pays one null check.
 */
import type { TraceContext } from "../protocol/trace-context.ts";

/** What a finished request reports on its span. */
export type SpanEnd = { sessionId?: string; error?: { code: number; message: string } };

/** One request's span: ended once, when the request is answered. */
export type RequestSpan = { end(outcome: SpanEnd): void };

export interface RequestTracer {
  /** Starts the span of a request named `name`, child of the request's `trace` when it carries one. */
  start(name: string, trace: TraceContext | null, attributes: Record<string, string>): RequestSpan;
  /** Exports what is still buffered (at shutdown). */
  shutdown(): Promise<void>;
}

let active: RequestTracer | null = null;

/** The tracer requests report to, or null when tracing is off. */
export function requestTracer(): RequestTracer | null {
  return active;
}

/** True when `env` asks for traces to be exported over OTLP (and does not switch the SDK off). */
export function tracingRequested(env: Record<string, string | undefined>): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === "true") return false;
  if (env.OTEL_TRACES_EXPORTER?.trim().toLowerCase() === "none") return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

/** Loads the OpenTelemetry SDK and starts exporting, when `env` asks for it. */
export async function startTracing(env: Record<string, string | undefined>): Promise<void> {
  if (!tracingRequested(env)) return;
  // The SDK would only log this through its diagnostics, which nobody reads: say it once on stderr.
  const name = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ? "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT" : "OTEL_EXPORTER_OTLP_ENDPOINT";
  if (!URL.canParse(env[name]!)) {
    console.error(`execbox: not tracing: ${name} is not a URL`);
    return;
  }
  const { otlpTracer } = await import("./otel.ts");
  active = otlpTracer(env);
}

/** Flushes and stops the exporter (no-op when tracing is off). */
export async function stopTracing(): Promise<void> {
  const tracer = active;
  active = null;
  await tracer?.shutdown();
}
