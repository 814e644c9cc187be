/**
 * The executor's metrics, in one place: call sites hold one-line hooks
 * (`metrics.processStarted()`), this file knows what they feed. Served as
 * Prometheus text by `GET /metrics` on the WebSocket listener (behind the
 * same authentication as the upgrade), see transport/websocket.ts; the text
 * format is prometheus.ts (why not a library: there).
 *
 * One executor per process (as the binary runs), so one registry per process.
 */
import { isMethodName } from "../protocol/methods.ts";
import type { TraceContext } from "../protocol/trace-context.ts";
import { Counter, Gauge, Histogram, PROMETHEUS_CONTENT_TYPE, Registry } from "./prometheus.ts";
import { requestTracer } from "./tracing.ts";

/**
 * Latency buckets of `execbox_request_duration_seconds`, seconds: from a
 * sub-millisecond `environment/status` to long-polling `process/read`s
 * (their `waitMs`) and slow `http/request`s; 16 buckets keep a scrape small.
 */
export const REQUEST_DURATION_BUCKETS_SECONDS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
] as const;

/**
 * The `method` label (and span name) of a request: its wire name when it is a
 * method execbox knows, else `unknown` — a client choosing names must not
 * grow the executor's series without bound.
 */
export function methodLabel(method: string): string {
  return method === "initialize" || isMethodName(method) ? method : "unknown";
}

/** The request outcome label: `ok`, or `error` (the code is on the span, `rpc.jsonrpc.error_code`). */
export type Outcome = "ok" | "error";

/** Session counts read at scrape time. */
export type SessionCounts = { current: number; detached: number };

class ServerMetrics {
  private readonly registry = new Registry();
  private sessionCounts: () => SessionCounts = () => ({ current: 0, detached: 0 });
  private readonly connections = this.registry.register(
    new Gauge("execbox_connections", "Client connections open now (WebSocket, stdio, relay and direct streams)."),
  );
  private readonly connectionsTotal = this.registry.register(new Counter("execbox_connections_total", "Client connections opened since start."));
  private readonly requests = this.registry.register(new Counter("execbox_requests_total", "JSON-RPC requests answered, by method and outcome.", true));
  private readonly duration = this.registry.register(
    new Histogram("execbox_request_duration_seconds", "Time from a request's admission to its answer, by method.", REQUEST_DURATION_BUCKETS_SECONDS),
  );
  private readonly processesRunning = this.registry.register(new Gauge("execbox_processes_running", "Managed processes running now (not yet closed)."));
  private readonly processesStarted = this.registry.register(new Counter("execbox_processes_started_total", "Processes started since start."));
  private readonly processesExited = this.registry.register(
    new Counter("execbox_processes_exited_total", "Processes that exited and closed their output since start."),
  );
  private readonly outputBytes = this.registry.register(
    new Counter("execbox_output_bytes_total", "Process output bytes sent to clients (process/output pushes)."),
  );
  private readonly producerWaits = this.registry.register(
    new Counter("execbox_backpressure_waits_total", "Times a producer (process pipe, PTY, HTTP body) waited for a backed-up connection to drain."),
  );

  constructor() {
    // Read at scrape time from the session registry rather than tracked at each change.
    this.registry.register(
      new Gauge("execbox_sessions", "Sessions held now, by state (attached or detached).", (set) => {
        const { current, detached } = this.sessionCounts();
        set({ state: "attached" }, current - detached);
        set({ state: "detached" }, detached);
      }),
    );
  }

  /** The session registry to read at scrape time. */
  watchSessions(counts: () => SessionCounts): void {
    this.sessionCounts = counts;
  }

  connectionOpened(): void {
    this.connections.inc();
    this.connectionsTotal.inc();
  }

  connectionClosed(): void {
    this.connections.dec();
  }

  /** A request was answered; `seconds` since its admission. */
  requestDone(method: string, outcome: Outcome, seconds: number): void {
    this.requests.inc(1, { method, outcome });
    this.duration.observe(seconds, { method });
  }

  processStarted(): void {
    this.processesRunning.inc();
    this.processesStarted.inc();
  }

  processExited(): void {
    this.processesRunning.dec();
    this.processesExited.inc();
  }

  outputSent(bytes: number): void {
    this.outputBytes.inc(bytes);
  }

  producerWaited(): void {
    this.producerWaits.inc();
  }

  /** The Prometheus text exposition of every metric. */
  text(): string {
    return this.registry.text();
  }

  readonly contentType = PROMETHEUS_CONTENT_TYPE;
}

/** This process's metrics. */
export const metrics = new ServerMetrics();

/** What `observeRequest`'s finisher is told: the session the request ran in, and its error if it failed. */
export type RequestEnd = (sessionId: string | undefined, error?: { code: number; message: string }) => void;

/**
 * Starts observing one request (its metrics, and its span when tracing is
 * on); call the result once, when the request is answered. Span attributes:
 * `rpc.system`, `rpc.method`, `execbox.process.id` for a request that names
 * a process, then `execbox.session.id` and `rpc.jsonrpc.error_code` at the end.
 */
export function observeRequest(method: string, params: unknown, trace: TraceContext | null): RequestEnd {
  const started = performance.now();
  const name = methodLabel(method);
  const tracer = requestTracer();
  const span = tracer?.start(name, trace, spanAttributes(name, params));
  return (sessionId, error) => {
    metrics.requestDone(name, error ? "error" : "ok", (performance.now() - started) / 1000);
    span?.end({ sessionId, error });
  };
}

function spanAttributes(method: string, params: unknown): Record<string, string> {
  const attributes: Record<string, string> = { "rpc.system": "jsonrpc", "rpc.method": method };
  const processId = typeof params === "object" && params !== null ? (params as { processId?: unknown }).processId : undefined;
  if (typeof processId === "string") attributes["execbox.process.id"] = processId;
  return attributes;
}
