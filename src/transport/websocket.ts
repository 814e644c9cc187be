/**
 * WebSocket transport: HTTP/1.1 on one address, upgrade on `/`, `GET /readyz`,
 * and the reference's HTTP answers for everything else. Moves frames only.
 */
import type { Server, ServerWebSocket } from "bun";
import type { Connection } from "../server/connection.ts";
import type { ExecServer } from "../server/exec-server.ts";
import { MAX_INCOMING_MESSAGE_BYTES, WS_IDLE_TIMEOUT_SECONDS } from "../server/limits.ts";
import type { SendResult } from "../server/outbox.ts";

type SocketData = { peer: string; connection?: Connection };

/** Checked before the upgrade; returns a rejection or undefined to proceed (auth plugs in here). */
export type UpgradeGuard = (req: Request) => Response | undefined;

export type WebSocketListener = { url: string; stop(): Promise<void> };

const TEXT = { "content-type": "text/plain; charset=utf-8" };

export function listenWebSocket(
  exec: ExecServer,
  host: string,
  port: number,
  guard: UpgradeGuard = () => undefined,
): WebSocketListener {
  const decoder = new TextDecoder();
  const server: Server<SocketData> = Bun.serve<SocketData>({
    hostname: host,
    port,
    fetch(req, srv) {
      // Browsers always send Origin; refusing it keeps web pages off the executor.
      if (req.headers.has("origin")) return new Response(null, { status: 403 });
      const path = new URL(req.url).pathname;
      if (path === "/readyz") {
        if (req.method === "GET" || req.method === "HEAD") return new Response(null, { status: 200 });
        return new Response(null, { status: 405, headers: { allow: "GET,HEAD" } });
      }
      if (path !== "/") return new Response(null, { status: 404 });
      const invalid = upgradeProblem(req) ?? guard(req);
      if (invalid) return invalid;
      const ip = srv.requestIP(req);
      const peer = ip ? (ip.family === "IPv6" ? `[${ip.address}]:${ip.port}` : `${ip.address}:${ip.port}`) : "unknown";
      if (srv.upgrade(req, { data: { peer } })) return undefined;
      return new Response("WebSocket upgrade failed", { status: 400, headers: TEXT });
    },
    websocket: {
      maxPayloadLength: MAX_INCOMING_MESSAGE_BYTES,
      idleTimeout: WS_IDLE_TIMEOUT_SECONDS,
      sendPings: true,
      perMessageDeflate: false,
      open(ws) {
        ws.data.connection = exec.connect(
          { send: (text) => sendResult(ws.send(text)), abort: () => ws.terminate() },
          {
            parseErrorPrefix: `failed to parse websocket JSON-RPC message from exec-server websocket ${ws.data.peer}: `,
            detachOnClose: true,
          },
        );
      },
      message(ws, message) {
        ws.data.connection?.receive(typeof message === "string" ? message : decoder.decode(message));
      },
      drain(ws) {
        ws.data.connection?.drained();
      },
      close(ws) {
        void ws.data.connection?.closedByTransport();
      },
    },
  });
  const shownHost = host.includes(":") ? `[${host}]` : host;
  return {
    url: `ws://${shownHost}:${server.port}`,
    stop: async () => {
      await server.stop(true);
    },
  };
}

/** Bun: >0 bytes sent, -1 enqueued under back-pressure, 0 dropped. */
function sendResult(n: number): SendResult {
  return n > 0 ? "sent" : n === -1 ? "congested" : "dropped";
}

/** The upgrade checks and texts of the reference (axum's WebSocketUpgrade). */
function upgradeProblem(req: Request): Response | undefined {
  const bad = (text: string, status = 400) => new Response(text, { status, headers: TEXT });
  if (req.method !== "GET") return bad("Request method must be `GET`", 405);
  const has = (name: string, token: string) =>
    (req.headers.get(name) ?? "")
      .toLowerCase()
      .split(",")
      .some((t) => t.trim() === token);
  if (!has("connection", "upgrade")) return bad("Connection header did not include 'upgrade'");
  if (!has("upgrade", "websocket")) return bad("`Upgrade` header did not include 'websocket'");
  if (req.headers.get("sec-websocket-version") !== "13") return bad("`Sec-WebSocket-Version` header did not include '13'");
  if (!req.headers.get("sec-websocket-key")) return bad("`Sec-WebSocket-Key` header missing");
  return undefined;
}

export type { ServerWebSocket };
