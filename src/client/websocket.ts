/**
 * WebSocket channel on the WHATWG `WebSocket` API, which Bun, Node ≥ 22 (and
 * Node 20 with `--experimental-websocket`), Deno and browsers provide, and
 * the `ws` package mirrors. The bearer token travels as an `Authorization`
 * header on the upgrade, passed as `new WebSocket(url, { headers })`: Bun,
 * Node's undici and `ws` honour that; browsers ignore it (and send `Origin`,
 * which execbox refuses anyway), so this client is for servers and CLIs.
 */
import { ExecboxAuthError, ExecboxConnectionError } from "./errors.ts";
import { isShutdownClose } from "../protocol/shutdown.ts";
import { isTunnelFrame } from "../protocol/tunnel-frame.ts";
import type { Channel, ChannelEvents, Connector } from "./transport.ts";

/** The subset of the WHATWG WebSocket this client uses. */
export interface WebSocketLike {
  binaryType: string;
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

/** `globalThis.WebSocket`, or e.g. `import { WebSocket } from "ws"` on Node 20. */
export type WebSocketConstructor = new (
  url: string,
  options: { headers: Record<string, string>; tls?: { ca: string | string[] } },
) => WebSocketLike;

export type WebSocketOptions = {
  /** Sent as `Authorization: Bearer <token>` on the upgrade (`--ws-auth` executors). */
  token?: string;
  /** Extra upgrade headers. Never set `Origin`: execbox answers 403 to it. */
  headers?: Record<string, string>;
  /** Constructor to use instead of the global one. */
  WebSocket?: WebSocketConstructor;
  /** How long one connection attempt may take. */
  connectTimeoutMs?: number;
  /**
   * `wss://` only: trust these PEM CA certificates, e.g. a private CA that
   * signed the executor's `--tls-cert`. Passed to the constructor as `{ tls: { ca } }`, which Bun's
   * WebSocket honours; elsewhere pass a `WebSocket` constructor that applies it.
   */
  tls?: { ca: string | string[] };
};

/** One attempt to open a WebSocket gives up after this long. */
export const CONNECT_TIMEOUT_MS = 10_000;
/** `close()` waits this long for the close handshake before letting go. */
const CLOSE_WAIT_MS = 1_000;

export function webSocketConnector(url: string, options: WebSocketOptions = {}): Connector {
  const Ctor = options.WebSocket ?? (globalThis as { WebSocket?: unknown }).WebSocket;
  if (typeof Ctor !== "function") {
    throw new Error(
      "no global WebSocket here (Node 20 without --experimental-websocket): pass { WebSocket } from the `ws` package",
    );
  }
  const headers: Record<string, string> = { ...options.headers };
  if (options.token !== undefined) headers.Authorization = `Bearer ${options.token}`;
  const timeoutMs = options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS;
  return {
    target: url,
    resumable: true,
    open: (events) => openSocket(Ctor as WebSocketConstructor, url, { headers, ...(options.tls ? { tls: options.tls } : {}) }, timeoutMs, events),
  };
}

function openSocket(
  Ctor: WebSocketConstructor,
  url: string,
  init: ConstructorParameters<WebSocketConstructor>[1],
  timeoutMs: number,
  events: ChannelEvents,
): Promise<Channel> {
  return new Promise((resolve, reject) => {
    let ws: WebSocketLike;
    try {
      ws = new Ctor(url, init);
    } catch (e) {
      reject(new ExecboxConnectionError(`cannot connect to ${url}: ${e instanceof Error ? e.message : String(e)}`));
      return;
    }
    ws.binaryType = "arraybuffer";
    const decoder = new TextDecoder();
    let opened = false;
    let closedResolve: () => void = () => {};
    const whenClosed = new Promise<void>((r) => (closedResolve = r));
    const channel = {
      closed: false,
      send(text: string) {
        if (channel.closed) throw new Error("connection is closed");
        ws.send(text);
      },
      sendBinary(bytes: Uint8Array) {
        if (channel.closed) throw new Error("connection is closed");
        ws.send(bytes);
      },
      async close() {
        if (!channel.closed) {
          ws.close(1000);
          finish("closed by the client");
        }
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([whenClosed, new Promise((r) => (timer = setTimeout(r, CLOSE_WAIT_MS)))]);
        clearTimeout(timer);
      },
    };
    const finish = (reason: string, serverShutdown = false) => {
      if (channel.closed) return;
      channel.closed = true;
      if (opened) events.closed(reason, serverShutdown);
    };
    const timer = setTimeout(() => {
      finish("timeout");
      ws.close();
      reject(new ExecboxConnectionError(`cannot connect to ${url}: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    ws.onopen = () => {
      clearTimeout(timer);
      opened = true;
      resolve(channel);
    };
    ws.onmessage = (event) => {
      if (channel.closed) return;
      const data = event.data;
      if (typeof data === "string") return events.message(data);
      const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : null;
      if (bytes && isTunnelFrame(bytes)) events.tunnelFrame?.(bytes);
      else if (bytes) events.message(decoder.decode(bytes));
    };
    ws.onerror = (event) => {
      if (opened) return; // the close event that follows reports it
      clearTimeout(timer);
      finish("error");
      const detail = (event as { message?: string; error?: Error }).message ?? (event as { error?: Error }).error?.message;
      reject(connectError(url, detail));
    };
    ws.onclose = (event) => {
      clearTimeout(timer);
      closedResolve();
      if (!opened) reject(new ExecboxConnectionError(`cannot connect to ${url}: closed with code ${event.code}`));
      finish(`closed with code ${event.code}${event.reason ? ` (${event.reason})` : ""}`, isShutdownClose(event.code, event.reason));
    };
  });
}

const REFUSALS = { 401: "401 Unauthorized", 403: "403 Forbidden" } as const;

/**
 * Why an upgrade failed. The WHATWG API gives no status, only the error's
 * text: Bun words a refusal `Expected 101 status code: 401`, the `ws` package
 * `Unexpected server response: 401`. A 401/403 is an ExecboxAuthError.
 */
function connectError(url: string, detail: string | undefined): ExecboxConnectionError {
  const status = Number(/(?:Expected 101 status code|Unexpected server response): (40[13])\b/.exec(detail ?? "")?.[1]);
  if (status === 401 || status === 403) return new ExecboxAuthError(`cannot connect to ${url}: the executor refused the upgrade (${REFUSALS[status]})`, status, url);
  return new ExecboxConnectionError(`cannot connect to ${url}${detail ? `: ${detail}` : ""}`);
}
