/**
 * Port forwarding over the executor's connection (the `tunnel` extension):
 * `tunnel/open` connects the executor to a TCP port (loopback only), bytes go
 * client→executor as `tunnel/write` requests (answered once queued, at most
 * a write window ahead of the `tunnel/written` reports of what the socket
 * took) and executor→client as `tunnel/data` notifications (at most the
 * tunnel's window ahead of the client's `tunnel/ack`). See src/tunnel/.
 */
import { z } from "zod";
import { bool, lazy, str, struct, u64 } from "../serde.ts";
import { Base64Chunk } from "./bytes.ts";

export const TunnelOpenParams = lazy(() =>
  struct("TunnelOpenParams", {
    /** An IP literal or `localhost` [default: 127.0.0.1]; only loopback is allowed. */
    host: str().optional(),
    port: u64().refine((p) => p >= 1 && p <= 65535, { message: "invalid value: port must be 1..65535" }),
    /**
     * Move this tunnel's bytes as binary WebSocket messages (src/protocol/tunnel-frame.ts)
     * instead of base64 in `tunnel/write` / `tunnel/data` [extension version 2; default: false].
     */
    binary: bool().optional(),
  }),
);
export type TunnelOpenParams = z.infer<typeof TunnelOpenParams>;
/**
 * `binary`: present when asked for; true when the tunnel's bytes go as binary
 * frames, false when its transport carries no binary messages (stdio, a
 * relay) and they stay base64 JSON.
 */
export const TunnelOpenResult = lazy(() => z.object({ tunnelId: z.string(), binary: z.boolean().optional() }));

/** `chunk` is written, then with `eof` the executor's side half-closes (TCP FIN); neither is required. */
export const TunnelWriteParams = lazy(() =>
  struct("TunnelWriteParams", { tunnelId: str(), chunk: Base64Chunk.optional(), eof: bool().optional() }),
);
/** The client has consumed `bytes` more of the tunnel's data: the executor may send that much more. */
export const TunnelAckParams = lazy(() => struct("TunnelAckParams", { tunnelId: str(), bytes: u64() }));
export const TunnelCloseParams = lazy(() => struct("TunnelCloseParams", { tunnelId: str() }));
export const TunnelEmpty = lazy(() => z.object({}));

/** Bytes from the remote port, numbered from 1. */
export const TunnelDataNotification = lazy(() => z.object({ tunnelId: z.string(), seq: z.number(), chunk: z.string() }));
/** The remote socket has taken `bytes` more of the tunnel's writes: the client may send that much more. */
export const TunnelWrittenNotification = lazy(() => z.object({ tunnelId: z.string(), bytes: z.number() }));
/** The remote port sent EOF (TCP FIN): no more `tunnel/data`; writing may go on until `tunnel/closed`. */
export const TunnelEofNotification = lazy(() => z.object({ tunnelId: z.string() }));

/**
 * Why a tunnel ended: `remoteClosed` — the remote port closed the connection;
 * `clientClosed` — `tunnel/close`; `error` — a socket error, in `error`.
 */
export const TunnelCloseReason = lazy(() => z.enum(["remoteClosed", "clientClosed", "error"]));
export type TunnelCloseReason = z.infer<typeof TunnelCloseReason>;
export const TunnelClosedNotification = lazy(() =>
  z.object({ tunnelId: z.string(), reason: TunnelCloseReason, error: z.string().nullable() }),
);
