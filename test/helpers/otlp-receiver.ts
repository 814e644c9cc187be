/**
 * An OTLP/HTTP trace receiver on 127.0.0.1 (a real socket): decodes each
 * `POST /v1/traces` (protobuf, as the official exporter sends it) into plain
 * spans. The message types are those of opentelemetry-proto
 * (collector/trace/v1, trace/v1, common/v1, resource/v1), cut to the fields
 * tests read; protobufjs skips the others.
 */
import protobuf from "protobufjs";

const PROTO = `
syntax = "proto3";
message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
message ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; }
message Resource { repeated KeyValue attributes = 1; }
message ScopeSpans { Scope scope = 1; repeated Span spans = 2; }
message Scope { string name = 1; string version = 2; }
message Span {
  bytes trace_id = 1; bytes span_id = 2; string trace_state = 3; bytes parent_span_id = 4;
  string name = 5; int32 kind = 6; fixed64 start_time_unix_nano = 7; fixed64 end_time_unix_nano = 8;
  repeated KeyValue attributes = 9; Status status = 15;
}
message Status { string message = 2; int32 code = 3; }
message KeyValue { string key = 1; AnyValue value = 2; }
message AnyValue { oneof value { string string_value = 1; bool bool_value = 2; int64 int_value = 3; double double_value = 4; } }
`;
const Request = protobuf.parse(PROTO, { keepCase: true }).root.lookupType("ExportTraceServiceRequest");

export type ReceivedSpan = {
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  traceState: string;
  /** 2 = SERVER (the proto's SpanKind numbering). */
  kind: number;
  attributes: Record<string, string | number | boolean>;
  status: { code: number; message: string };
  resource: Record<string, string | number | boolean>;
};

export type OtlpReceiver = {
  /** What to put in OTEL_EXPORTER_OTLP_ENDPOINT. */
  endpoint: string;
  spans: ReceivedSpan[];
  /** Headers of every export request, in order. */
  headers: Headers[];
  [Symbol.asyncDispose](): Promise<void>;
};

const hex = (b: Uint8Array | undefined) => Buffer.from(b ?? []).toString("hex");

function attributesOf(list: any[] | undefined): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const kv of list ?? []) {
    const v = kv.value ?? {};
    out[kv.key] = v.string_value ?? v.bool_value ?? (v.int_value !== undefined ? Number(v.int_value) : v.double_value);
  }
  return out;
}

export function startOtlpReceiver(): OtlpReceiver {
  const spans: ReceivedSpan[] = [];
  const headers: Headers[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      if (req.method !== "POST" || new URL(req.url).pathname !== "/v1/traces") return new Response("not found", { status: 404 });
      headers.push(req.headers);
      const body = new Uint8Array(await req.arrayBuffer());
      const decoded = Request.toObject(Request.decode(body), { defaults: false }) as any;
      for (const rs of decoded.resource_spans ?? []) {
        const resource = attributesOf(rs.resource?.attributes);
        for (const ss of rs.scope_spans ?? []) {
          for (const s of ss.spans ?? []) {
            spans.push({
              name: s.name,
              traceId: hex(s.trace_id),
              spanId: hex(s.span_id),
              parentSpanId: hex(s.parent_span_id),
              traceState: s.trace_state ?? "",
              kind: s.kind ?? 0,
              attributes: attributesOf(s.attributes),
              status: { code: s.status?.code ?? 0, message: s.status?.message ?? "" },
              resource,
            });
          }
        }
      }
      return new Response(new Uint8Array(0), { headers: { "content-type": "application/x-protobuf" } });
    },
  });
  return { endpoint: `http://127.0.0.1:${server.port}`, spans, headers, [Symbol.asyncDispose]: async () => void (await server.stop(true)) };
}
