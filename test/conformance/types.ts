/**
 * The scenario language of the conformance tool: plain data steps that the
 * driver (driver.ts) plays against one executor, plus tiny builders so the
 * scenario lists stay readable. Values that depend on the run (temp dir,
 * session ids) are given as functions of a `Ctx` and resolved at play time.
 */

/** Run-dependent values a step may use. */
export type Ctx = {
  /** Absolute path of this scenario's private temp dir (created and removed by the runner). */
  dir: string;
  /** `file://` URI of `dir`. */
  uri: string;
  /** sessionId returned by the last successful initialize on each named connection. */
  sessions: Record<string, string | undefined>;
  /** Base URL of the run's Bun.serve HTTP fixture (http-fixture.ts). */
  http: string;
  /** Base URL of the run's raw-TCP HTTP fixture (exact wire bytes). */
  rawHttp: string;
  /**
   * `file://` URI of the run's `server-bin` dir (servers.ts), first on both servers' PATH: the reference's
   * fs helper execs `codex-linux-sandbox` from there inside its sandbox, so a policy that hides it must grant it.
   */
  serverBinUri: string;
};

/** A value, or a function computing it from the run context. */
export type Val<T> = T | ((ctx: Ctx) => T);

/** Params: JSON-ish data or a function of the context (spelled out so arrow functions get a typed `ctx`). */
export type ParamsVal = ((ctx: Ctx) => unknown) | null | boolean | number | string | readonly unknown[] | { [k: string]: unknown };

/** How `process/read` results are normalized: chunk boundaries are only comparable when the scenario makes them deterministic. */
export type ReadMode = "exact" | "streams" | "bytes";

export type Step =
  /** Opens a WebSocket connection (name defaults to "c1"). */
  | { kind: "connect"; conn?: string }
  /** Sends a request; unless `wait: false`, waits for and records its response. */
  | {
      kind: "request";
      conn?: string;
      method: string;
      /** `undefined` omits the member entirely. */
      params?: ParamsVal;
      id?: number | string;
      wait?: boolean;
      timeoutMs?: number;
      read?: ReadMode;
      /** Record a coarse latency bucket (for long-poll / blocking behaviour). */
      timed?: boolean;
      /** Text in the response that the reference itself varies between runs (a race of its own): shown as `<any of: …>`. */
      equivalent?: RegExp;
    }
  | { kind: "notify"; conn?: string; method: string; params?: ParamsVal }
  /** Sends a frame verbatim (bad JSON, big-int ids…) and records the next non-process frame, if any. */
  | { kind: "raw"; conn?: string; text: Val<string>; expect?: "next" | "none"; timeoutMs?: number }
  /** Waits for responses to earlier `wait: false` requests and records them in arrival order. */
  | { kind: "await"; conn?: string; ids: (number | string)[]; timeoutMs?: number; read?: ReadMode }
  /** Records whether the server closes the connection within `ms`. */
  | { kind: "expectClose"; conn?: string; ms: number }
  /** Waits for `process/closed` and records a summary of the process's notifications. */
  | { kind: "awaitProcess"; conn?: string; processId: string; timeoutMs?: number; exact?: boolean }
  | { kind: "sleep"; ms: number }
  /** Client-side close (detaches the session). */
  | { kind: "close"; conn?: string }
  /** A plain HTTP request to the listener (fetch with the given raw headers). */
  | { kind: "http"; method: string; path: string; headers?: Record<string, string> }
  /** Runs `run(dir)` in the conformance process (e.g. creating a file behind the server's back); recorded by label. */
  | { kind: "local"; label: string; run: (dir: string) => void }
  /** Records a listing of the scenario temp dir (or `sub` inside it): kinds, sizes, link targets, small contents. */
  | { kind: "tree"; sub?: string }
  /** Waits for the final `http/request/bodyDelta` of `requestId` and records the stream's summary. */
  | { kind: "awaitStream"; conn?: string; requestId: string; timeoutMs?: number }
  /** Waits (with a deadline) for a notification `method` not consumed yet and records it, or its absence. */
  | { kind: "awaitNotify"; conn?: string; method: string; timeoutMs?: number };

export type Scenario = {
  name: string;
  /** Prepares files inside the scenario temp dir (never outside it). */
  setup?: (dir: string) => void;
  steps: Step[];
  /**
   * Play the reference first and execbox after it, not both at once: for
   * scenarios whose sandboxes hold stand-ins at `/` (`/.git`…), which the two
   * executors would otherwise make and remove under each other.
   */
  sidesInTurn?: boolean;
};

// ---- builders ---------------------------------------------------------------

export const connect = (conn = "c1"): Step => ({ kind: "connect", conn });

export const req = (
  method: string,
  params?: ParamsVal,
  opts: Omit<Extract<Step, { kind: "request" }>, "kind" | "method" | "params"> = {},
): Step => ({ kind: "request", method, params, ...opts });

export const notify = (method: string, params?: ParamsVal, conn?: string): Step => ({ kind: "notify", method, params, conn });

export const raw = (text: Val<string>, opts: { conn?: string; expect?: "next" | "none"; timeoutMs?: number } = {}): Step => ({
  kind: "raw",
  text,
  ...opts,
});

export const expectClose = (ms = 800, conn?: string): Step => ({ kind: "expectClose", ms, conn });

export const awaitProcess = (processId: string, opts: { conn?: string; timeoutMs?: number; exact?: boolean } = {}): Step => ({
  kind: "awaitProcess",
  processId,
  ...opts,
});

export const sleep = (ms: number): Step => ({ kind: "sleep", ms });

export const http = (method: string, path: string, headers?: Record<string, string>): Step => ({ kind: "http", method, path, headers });

/** Connect + initialize + initialized: the usual preamble. */
export function ready(conn = "c1"): Step[] {
  return [
    { kind: "connect", conn },
    { kind: "request", conn, method: "initialize", params: { clientName: "conformance" } },
    { kind: "notify", conn, method: "initialized", params: {} },
  ];
}

/** A minimal valid process/start params object, overridable field by field. */
export function startParams(processId: string, argv: string[], extra: Record<string, unknown> = {}): ParamsVal {
  return (ctx: Ctx) => ({ processId, argv, cwd: ctx.uri, env: { PATH: "/usr/bin:/bin" }, tty: false, ...extra });
}

/** process/start of `sh -c script` with the minimal params. */
export const sh = (processId: string, script: string, extra: Record<string, unknown> = {}, opts: { conn?: string } = {}): Step =>
  req("process/start", startParams(processId, ["sh", "-c", script], extra), opts);

export const local = (label: string, run: (dir: string) => void): Step => ({ kind: "local", label, run });

export const tree = (sub?: string): Step => ({ kind: "tree", sub });

export const awaitStream = (requestId: string, opts: { conn?: string; timeoutMs?: number } = {}): Step => ({ kind: "awaitStream", requestId, ...opts });

export const awaitNotify = (method: string, opts: { conn?: string; timeoutMs?: number } = {}): Step => ({ kind: "awaitNotify", method, ...opts });

export const b64 = (text: string): string => Buffer.from(text).toString("base64");
