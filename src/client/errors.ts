/**
 * The errors a client call can reject with. Callers branch on the class (and
 * on `code` for server errors), never on message text.
 */
import type { ExtensionName } from "../protocol/extensions.ts";
import { ErrorCode, type SpawnErrorKind, spawnError } from "../protocol/errors.ts";

export type { SpawnErrorKind };

/** The executor answered with a JSON-RPC error (`{"error":{code,message}}`). */
export class ExecboxRpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly method: string,
    /** The error's `data` member as sent, if any (e.g. `{kind}` on a spawn error). */
    readonly data?: unknown,
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

/**
 * The executor refused the WebSocket upgrade with 401 (it wants a token, or
 * another one) or 403 (execbox: an `Origin` header, or a peer inside one of
 * its sandboxes). Retrying with the same credentials cannot help. Seen where
 * the runtime's WebSocket reports the status (Bun, the `ws` package); Node's
 * built-in WebSocket does not, so there it is a plain ExecboxConnectionError.
 */
export class ExecboxAuthError extends ExecboxConnectionError {
  constructor(
    message: string,
    readonly status: 401 | 403,
    readonly url: string,
  ) {
    super(message);
    this.name = "ExecboxAuthError";
  }
}

/**
 * `process/start` failed to spawn the program (-32603). `kind` is the
 * executor's `data.kind` (0.171.0). Two refinements so callers need no text:
 * a PTY spawn's lookup failure, which the executor (as the reference, whose
 * PTY layer words it) reports as `spawnFailed` with portable-pty's text, is
 * classified from that text; an executor without `data.kind` (0.169.0) gets
 * the kind from its OS error text, as 0.171.0 derives it.
 */
export class ExecboxSpawnError extends ExecboxRpcError {
  constructor(
    message: string,
    readonly kind: SpawnErrorKind,
    data?: unknown,
  ) {
    super(ErrorCode.Internal, message, "process/start", data);
    this.name = "ExecboxSpawnError";
  }
}

/** The typed error for a JSON-RPC error answer to `method`. */
export function rpcError(method: string, error: { code?: unknown; message?: unknown; data?: unknown }): ExecboxRpcError {
  const code = typeof error.code === "number" ? error.code : 0;
  const message = String(error.message ?? "unknown error");
  if (method !== "process/start" || code !== ErrorCode.Internal) return new ExecboxRpcError(code, message, method, error.data);
  return new ExecboxSpawnError(message, spawnKind(message, error.data), error.data);
}

const SPAWN_KINDS: readonly string[] = ["spawnNotFound", "spawnPermissionDenied", "spawnFailed"] satisfies SpawnErrorKind[];

function spawnKind(message: string, data: unknown): SpawnErrorKind {
  const sent = (data as { kind?: unknown } | null | undefined)?.kind;
  const kind = typeof sent === "string" && SPAWN_KINDS.includes(sent) ? (sent as SpawnErrorKind) : (spawnError(message).data as { kind: SpawnErrorKind }).kind;
  return kind === "spawnFailed" ? ptyLookupKind(message) : kind;
}

/** portable-pty's lookup texts (src/process/program-lookup.ts reproduces them): missing → not found, present but not runnable → denied. */
function ptyLookupKind(message: string): SpawnErrorKind {
  if (!message.startsWith("Unable to spawn ")) return "spawnFailed";
  if (/ because it (is not executable|is a directory)$/.test(message) || /\n.* exists but is not executable\.\n/.test(message)) return "spawnPermissionDenied";
  if (/ because it does not exist$/.test(message) || /\n(No viable candidates found in PATH .*|Unable to resolve the PATH)$/.test(message)) return "spawnNotFound";
  return "spawnFailed";
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

/**
 * The call needs an execbox extension (src/protocol/extensions.ts) the
 * executor does not advertise (the reference, or an older execbox); nothing
 * was sent. `extension` names it, for a caller that degrades instead.
 */
export class ExecboxUnsupportedError extends Error {
  constructor(
    readonly extension: ExtensionName,
    what: string,
  ) {
    super(`${what} needs the executor's \`${extension}\` extension, which it does not advertise (the reference's protocol has no way to do it)`);
    this.name = "ExecboxUnsupportedError";
  }
}
