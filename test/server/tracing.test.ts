/** One OTLP span per JSON-RPC request, exported to a real receiver on 127.0.0.1, parented on the request's traceparent. */
import { expect, setDefaultTimeout, test } from "bun:test";
import { RawClient } from "../helpers/rpc-client.ts";
import { startOtlpReceiver } from "../helpers/otlp-receiver.ts";
import { startServer, tempDir } from "../helpers/server.ts";
import { waitUntil } from "../helpers/wait.ts";

setDefaultTimeout(30_000);

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_ID = "00f067aa0ba902b7";
const SERVER_KIND = 2;
const STATUS_ERROR = 2;

/** The executor's environment without any OTEL_* of the machine running the tests. */
function envWith(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith("OTEL_")) env[k] = v;
  return { ...env, ...extra };
}

test("spans: names, remote parent, attributes, error codes, resource and headers", async () => {
  await using receiver = startOtlpReceiver();
  using dir = tempDir();
  await using server = await startServer([], {
    env: envWith({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_EXPORTER_OTLP_HEADERS: "x-collector-key=k1", OTEL_BSP_SCHEDULE_DELAY: "50" }),
  });
  const client = await RawClient.websocket(server.url);
  const { sessionId } = await client.initialize();
  const trace = { traceparent: `00-${TRACE_ID}-${PARENT_ID}-01`, tracestate: "vendor=abc" };
  const call = (id: number, method: string, params: unknown) => {
    client.send({ id, method, params, trace });
    return client.waitFor((f) => f.id === id && ("result" in f || "error" in f));
  };
  const start = await call(101, "process/start", { processId: "p1", argv: ["true"], cwd: dir.uri, env: {}, tty: false });
  expect(start.result.processId).toBe("p1");
  const read = await call(102, "process/read", { processId: "nope" });
  expect(read.error).toEqual({ code: -32600, message: "unknown process id nope" });
  expect((await client.call("made/up")).error.code).toBe(-32601);

  await waitUntil(() => receiver.spans.length >= 4, 10_000, "4 exported spans");
  const byName = Object.fromEntries(receiver.spans.map((s) => [s.name, s]));
  expect(Object.keys(byName).sort()).toEqual(["initialize", "process/read", "process/start", "unknown"]);

  const init = byName.initialize!;
  expect([init.parentSpanId, init.kind]).toEqual(["", SERVER_KIND]);
  expect(init.attributes).toEqual({ "rpc.system": "jsonrpc", "rpc.method": "initialize", "execbox.session.id": sessionId });

  const started = byName["process/start"]!;
  expect([started.traceId, started.parentSpanId, started.traceState, started.kind]).toEqual([TRACE_ID, PARENT_ID, "vendor=abc", SERVER_KIND]);
  expect(started.attributes).toEqual({
    "rpc.system": "jsonrpc",
    "rpc.method": "process/start",
    "execbox.process.id": "p1",
    "execbox.session.id": sessionId,
  });
  expect(started.status.code).toBe(0);

  const failed = byName["process/read"]!;
  expect([failed.traceId, failed.parentSpanId]).toEqual([TRACE_ID, PARENT_ID]);
  expect(failed.attributes).toEqual({
    "rpc.system": "jsonrpc",
    "rpc.method": "process/read",
    "execbox.process.id": "nope",
    "execbox.session.id": sessionId,
    "rpc.jsonrpc.error_code": -32600,
  });
  expect(failed.status).toEqual({ code: STATUS_ERROR, message: "unknown process id nope" });
  // A name a client made up is not a span name (nor a metrics label).
  expect([byName.unknown!.attributes["rpc.method"], byName.unknown!.attributes["rpc.jsonrpc.error_code"]]).toEqual(["unknown", -32601]);

  expect(init.resource["service.name"]).toBe("execbox");
  expect(receiver.headers[0]!.get("x-collector-key")).toBe("k1");
  expect(receiver.headers[0]!.get("content-type")).toBe("application/x-protobuf");
});

test("spans still buffered at SIGTERM are exported before exit; OTEL_SERVICE_NAME names the service", async () => {
  await using receiver = startOtlpReceiver();
  // A batch delay far past the test: only the shutdown flush can deliver the span.
  const server = await startServer([], {
    env: envWith({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${receiver.endpoint}/v1/traces`, OTEL_SERVICE_NAME: "box-7", OTEL_BSP_SCHEDULE_DELAY: "600000" }),
  });
  try {
    const client = await RawClient.websocket(server.url);
    await client.initialize();
    expect(receiver.spans).toEqual([]);
    expect(await server.stop("SIGTERM")).toBe(0);
    expect(receiver.spans.map((s) => [s.name, s.resource["service.name"]])).toEqual([["initialize", "box-7"]]);
  } finally {
    await server.stop("SIGKILL");
  }
});

test("an endpoint that is not a URL: one line on stderr, the executor serves untraced", async () => {
  await using server = await startServer([], { env: envWith({ OTEL_EXPORTER_OTLP_ENDPOINT: "127.0.0.1:4318" }) });
  const client = await RawClient.websocket(server.url);
  await client.initialize();
  await waitUntil(() => server.stderr().includes("\n"), 5_000, "the warning");
  // One line (the executor's own info lines follow it).
  expect(server.stderr().split("\n").filter((l) => l.includes("tracing"))).toEqual(["execbox: not tracing: OTEL_EXPORTER_OTLP_ENDPOINT is not a URL"]);
});
