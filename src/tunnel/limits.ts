/** Limits of port forwarding (`tunnel/*`); each has a row in README.md's Limits table. */

/**
 * Tunnels one connection (so one session: a session has one connection at a
 * time) may hold open; one more `tunnel/open` is refused with -32600. Each
 * holds a socket, up to one write window and up to one window of unacknowledged
 * data; `execbox forward` uses one per local connection, and a browser opens
 * ~6 per origin, so 64 only stops a runaway or hostile client.
 */
export const MAX_TUNNELS_PER_CONNECTION = 64;

/**
 * Largest `tunnel/write` chunk, and largest `tunnel/data` chunk. Its base64
 * (~683 KiB) keeps a write request under the 1 MiB at which incoming messages
 * are admitted against the executor-wide large-message room and trigger
 * garbage collection (src/server/limits.ts), which would cost bulk transfers
 * a collection every 16 MiB. A larger chunk is refused with -32602.
 */
export const MAX_TUNNEL_CHUNK_BYTES = 512 * 1024;

/**
 * `tunnel/data` bytes sent ahead of the client's `tunnel/ack`: past this the
 * remote socket is paused until the client acknowledges. This bounds what a
 * client whose local reader is slow must hold (its WebSocket cannot be
 * paused), as the outbox bounds what the executor holds. 2 MiB keeps a
 * loopback transfer at full speed (an ack round trip is well under 1 ms).
 */
export const TUNNEL_WINDOW_BYTES = 2 * 1024 * 1024;

/**
 * `tunnel/write` bytes the executor holds for a remote port that has not
 * taken them yet. A write is answered as soon as its bytes are queued, so it
 * never holds the connection's request slot while the port is slow (with
 * `--concurrent-requests 1` a port that stopped reading would otherwise stall
 * every request of the connection); the client keeps at most this much
 * unreported (`tunnel/written` reports what the socket took). A write past it
 * is refused with -32600, a client that ignores the window.
 */
export const TUNNEL_WRITE_WINDOW_BYTES = 2 * 1024 * 1024;
/**
 * Written bytes all of one connection's tunnels may hold for ports that have
 * not taken them; past it the executor stops reading the connection (the
 * client meets TCP back-pressure) until they are under half. Each tunnel's
 * own window already bounds it, but 64 tunnels' windows are 128 MiB a
 * connection; 8 MiB is four tunnels' worth of ports that stopped reading,
 * while kernel socket buffers (MiBs each on loopback) keep ports that do
 * read from holding anything here.
 */
export const TUNNEL_UNWRITTEN_BYTES_PER_CONNECTION = 8 * 1024 * 1024;
/** `tunnel/written` is sent once this much has been taken since the last one, or when nothing is left queued. */
export const TUNNEL_WRITTEN_REPORT_BYTES = 256 * 1024;

/** A connect that has not completed by then fails (loopback answers at once; this bounds a port that drops SYNs). */
export const TUNNEL_CONNECT_TIMEOUT_MS = 10_000;

/**
 * Ids of closed tunnels a connection remembers, so a binary write frame that
 * was on its way when its tunnel closed is dropped (the client learns of the
 * close from `tunnel/closed`) while a frame for an id that never was a
 * tunnel's closes the connection. 4 × MAX_TUNNELS_PER_CONNECTION outlasts
 * any frame in flight; a frame for an id forgotten since is taken as never
 * issued.
 */
export const REMEMBERED_CLOSED_TUNNELS = 4 * MAX_TUNNELS_PER_CONNECTION;
