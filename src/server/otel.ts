/**
 * The OpenTelemetry side of request tracing: one SERVER span per JSON-RPC
 * request, exported in batches over OTLP/HTTP (protobuf) with the official
 * SDK. Imported only when tracing is on (see tracing.ts).
 *
 * The exporter reads the standard variables itself (`OTEL_EXPORTER_OTLP_
 * [TRACES_]ENDPOINT`, `…_HEADERS`, `…_TIMEOUT`, `…_COMPRESSION`); here are
 * the service name (default `execbox`, `OTEL_SERVICE_NAME` and
 * `OTEL_RESOURCE_ATTRIBUTES` win), the sampler (`OTEL_TRACES_SAMPLER[_ARG]`)
 * and the batch delay (`OTEL_BSP_SCHEDULE_DELAY`), which this SDK version
 * leaves to the application.
 */
import { ROOT_CONTEXT, type Context, SpanKind, SpanStatusCode, defaultTextMapGetter, trace as traceApi } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { detectResources, envDetector, resourceFromAttributes } from "@opentelemetry/resources";
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  type Sampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from "@opentelemetry/sdk-trace";
import type { TraceContext } from "../protocol/trace-context.ts";
import { VERSION } from "../version.ts";
import type { RequestTracer } from "./tracing.ts";

/** The service name when `OTEL_SERVICE_NAME` does not give one. */
export const DEFAULT_SERVICE_NAME = "execbox";
/** The SDK's batch delay (the spec's default), ms, when `OTEL_BSP_SCHEDULE_DELAY` does not give one. */
const DEFAULT_BATCH_DELAY_MS = 5000;

/**
 * `env`: the process's environment (serve passes process.env), read here for
 * the sampler and batch delay; the exporter and the resource detector read
 * process.env themselves, as the SDK does.
 */
export function otlpTracer(env: Record<string, string | undefined>): RequestTracer {
  const resource = resourceFromAttributes({ "service.name": DEFAULT_SERVICE_NAME, "service.version": VERSION }).merge(
    detectResources({ detectors: [envDetector] }),
  );
  const delay = Number(env.OTEL_BSP_SCHEDULE_DELAY);
  const processor = new BatchSpanProcessor({
    exporter: new OTLPTraceExporter(),
    scheduledDelayMillis: Number.isFinite(delay) && delay >= 0 ? delay : DEFAULT_BATCH_DELAY_MS,
  });
  const provider = new TracerProvider({ resource, sampler: samplerFrom(env), spanProcessors: [processor] });
  const tracer = provider.getTracer("execbox", VERSION);
  const propagator = new W3CTraceContextPropagator();
  return {
    start(name, trace, attributes) {
      const parent = trace ? remoteParent(propagator, trace) : ROOT_CONTEXT;
      const span = tracer.startSpan(name, { kind: SpanKind.SERVER, attributes }, parent);
      return {
        end({ sessionId, error }) {
          if (sessionId !== undefined) span.setAttribute("execbox.session.id", sessionId);
          if (error) {
            span.setAttribute("rpc.jsonrpc.error_code", error.code);
            span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
          }
          span.end();
        },
      };
    },
    shutdown: () => provider.shutdown(),
  };
}

/** The request's trace context as a remote parent (already checked well-formed by trace-context.ts). */
function remoteParent(propagator: W3CTraceContextPropagator, trace: TraceContext): Context {
  const carrier: Record<string, string> = { traceparent: trace.traceparent };
  if (trace.tracestate !== undefined) carrier.tracestate = trace.tracestate;
  const ctx = propagator.extract(ROOT_CONTEXT, carrier, defaultTextMapGetter);
  return traceApi.getSpanContext(ctx) ? ctx : ROOT_CONTEXT;
}

/** `OTEL_TRACES_SAMPLER` as the spec names them; anything else is the default (parent-based, always on) with a warning. */
function samplerFrom(env: Record<string, string | undefined>): Sampler {
  const name = env.OTEL_TRACES_SAMPLER?.trim().toLowerCase() || "parentbased_always_on";
  const arg = Number(env.OTEL_TRACES_SAMPLER_ARG ?? "1");
  const ratio = () => new TraceIdRatioBasedSampler(Number.isFinite(arg) && arg >= 0 && arg <= 1 ? arg : 1);
  switch (name) {
    case "always_on":
      return new AlwaysOnSampler();
    case "always_off":
      return new AlwaysOffSampler();
    case "traceidratio":
      return ratio();
    case "parentbased_always_off":
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case "parentbased_traceidratio":
      return new ParentBasedSampler({ root: ratio() });
    case "parentbased_always_on":
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    default:
      console.error(`execbox: unknown OTEL_TRACES_SAMPLER ${JSON.stringify(name)}; using parentbased_always_on`);
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}
