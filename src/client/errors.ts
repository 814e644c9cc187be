/**
 * The errors a client call can reject with. Callers branch on the class (and
 * on `code` for server errors), never on message text.
 */

/** The executor answered with a JSON-RPC error (`{"error":{code,message}}`). */
export class ExecboxRpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly method: string,
  ) {
    super(message);
    this.name = "ExecboxRpcError";
  }
}

/**
 * Why a connection error is final, where the client can tell: the executor
 * said it is shutting down (its close frame, see src/protocol/shutdown.ts),
 * so the client did not try to reconnect.
 */
export type ConnectionErrorReason = "server-shutdown";

/**
 * The connection is gone (or the client closed or failed) before an answer
 * arrived. `mayHaveApplied` is true when the request had been sent: a
 * non-idempotent call may or may not have taken effect on the executor.
 * `reason` is set when the cause is known (`"server-shutdown"`).
 */
export class ExecboxConnectionError extends Error {
  constructor(
    message: string,
    readonly method?: string,
    readonly mayHaveApplied = false,
    readonly reason?: ConnectionErrorReason,
  ) {
    super(message);
    this.name = "ExecboxConnectionError";
  }
}

/** No answer within the per-call timeout. The request may still run on the executor. */
export class ExecboxTimeoutError extends Error {
  constructor(
    readonly method: string,
    readonly timeoutMs: number,
  ) {
    super(`${method}: no response within ${timeoutMs} ms`);
    this.name = "ExecboxTimeoutError";
  }
}

/** The executor sent something that does not match the protocol's schemas. */
export class ExecboxProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ExecboxProtocolError";
  }
}

/** A streamed HTTP body ended with the executor's `error` frame. */
export class ExecboxHttpBodyError extends Error {
  constructor(
    message: string,
    readonly requestId: string,
  ) {
    super(message);
    this.name = "ExecboxHttpBodyError";
  }
}
