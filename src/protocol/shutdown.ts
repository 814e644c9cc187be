/**
 * The close frame an executor sends every client WebSocket when it shuts down
 * (SIGTERM/SIGINT), shared by the server and the client library. 1001 "going
 * away" (RFC 6455 §7.4.1) alone is also what a restarting proxy sends, after
 * which reconnecting is right; the reason text says the executor itself is
 * ending, so the client stops recovering and rejects its pending calls at
 * once (ExecboxConnectionError, reason "server-shutdown") instead of retrying
 * for its whole recovery deadline.
 */
export const SHUTDOWN_CLOSE_CODE = 1001;
export const SHUTDOWN_CLOSE_REASON = "execbox shutting down";

/** Whether a close code and reason are an executor's shutdown. */
export function isShutdownClose(code: number, reason: string): boolean {
  return code === SHUTDOWN_CLOSE_CODE && reason === SHUTDOWN_CLOSE_REASON;
}
