/**
 * execbox client library: connect to an executor over WebSocket (with
 * automatic resume) or stdio, make typed calls, and drive processes, files and
 * HTTP requests. Runs on Bun and Node ≥ 20 (Node 20: pass a WebSocket
 * constructor, e.g. from `ws`, or run with `--experimental-websocket`).
 */
import { type ClientOptions, ExecboxClient } from "./client.ts";
import { type StdioOptions, stdioConnector } from "./stdio.ts";
import { type WebSocketOptions, webSocketConnector } from "./websocket.ts";

export type WebSocketClientOptions = ClientOptions & WebSocketOptions;
export type StdioClientOptions = ClientOptions & StdioOptions;

/** Connects to `ws://host:port` and initializes a session; drops are resumed automatically. */
export function connectWebSocket(url: string, options: WebSocketClientOptions = {}): Promise<ExecboxClient> {
  return ExecboxClient.connect(webSocketConnector(url, options), options);
}

/**
 * Spawns `[...command, "--listen", "stdio"]` (e.g. `["execbox"]`, or
 * `["codex", "exec-server"]`) and talks to it over its stdin/stdout. Closing
 * the client ends the executor and its processes; there is no resume.
 */
export function connectStdio(command: string[], options: StdioClientOptions = {}): Promise<ExecboxClient> {
  return ExecboxClient.connect(stdioConnector(command, options), options);
}

export {
  type ClientEvents,
  type ClientOptions,
  type ClientState,
  DEFAULT_CLIENT_NAME,
  ExecboxClient,
  RECONNECT_BACKOFF_MAX_MS,
  RECONNECT_BACKOFF_MIN_MS,
  RECOVERY_DEADLINE_MS,
  type StartProcessParams,
} from "./client.ts";
export { CALL_TIMEOUT_MS, RETRIED_ON_RECONNECT, SEND_HIGH_WATER_BYTES } from "./calls.ts";
export { type OutputWatch, type WatchMatch, type WatchOptions } from "./process-extensions.ts";
export {
  ExecboxAuthError,
  type ConnectionErrorReason,
  ExecboxConnectionError,
  ExecboxHttpBodyError,
  ExecboxProtocolError,
  ExecboxRpcError,
  ExecboxSpawnError,
  ExecboxTimeoutError,
  ExecboxUnsupportedError,
  type SpawnErrorKind,
} from "./errors.ts";
export { FILE_BLOCK_BYTES, type RemoteFile, toFileUri } from "./files.ts";
export type { HttpRequestParams, HttpResult } from "./http.ts";
export { CATCH_UP_READ_BYTES, type ProcessEvent, RemoteProcess } from "./remote-process.ts";
export { type ExtensionName, supportsExtension } from "../protocol/extensions.ts";
export { SIGNAL_NAMES, type SignalValue } from "../protocol/signals.ts";
export type { TerminalSize } from "../protocol/messages/process.ts";
export { RemoteTunnel, TUNNEL_ACK_BYTES, type TunnelEnd } from "./tunnel.ts";
export { STDIO_EXIT_GRACE_MS, type StdioOptions, stdioConnector } from "./stdio.ts";
export type { Channel, ChannelEvents, Connector } from "./transport.ts";
export type { CallArgs, CallOptions, CallParams, CallableMethod } from "./types.ts";
export {
  CONNECT_TIMEOUT_MS,
  type WebSocketConstructor,
  type WebSocketLike,
  type WebSocketOptions,
  webSocketConnector,
} from "./websocket.ts";
