/** Limits and timers of the rendezvous connection (remote.md §3, §5.8), with the reference's values where it has one. */

/** Largest relay WebSocket message (and frame) either way; a bigger incoming one drops the socket (1009), a bigger outgoing one is refused (reference: 256 KiB). */
export const RELAY_MAX_FRAME_BYTES = 256 * 1024;
/** The executor pings the rendezvous this often, first 30 s after connecting (reference: 30 s). */
export const RELAY_PING_INTERVAL_MS = 30_000;
/** No pong for this long drops the socket with `pong_timeout` and reconnects (reference: 60 s). */
export const RELAY_PONG_TIMEOUT_MS = 60_000;
/** TCP connect plus the HTTP upgrade must finish within this (reference: ~10 s). */
export const RELAY_CONNECT_TIMEOUT_MS = 10_000;
/** Largest upgrade response head read; a rendezvous sending more is a failed connect. */
export const RELAY_MAX_UPGRADE_HEAD_BYTES = 16 * 1024;
/**
 * Reconnect backoff: attempt n waits a random time in [d/2, d) with
 * d = min(base · 2ⁿ, max); n goes back to 0 after a connection that opened.
 * The reference's first retry came ~0.6 s after a close; older source: 1 s doubling to 30 s.
 */
export const RELAY_RECONNECT_BASE_MS = 1_000;
export const RELAY_RECONNECT_MAX_MS = 30_000;
/** Active (handshaken) streams on one socket; one more handshake is reset ("Noise relay has too many active streams", reference: 128). */
export const RELAY_MAX_ACTIVE_STREAMS = 128;
/** Streams whose handshake awaits validation; one more handshake is reset (reference: 32). */
export const RELAY_MAX_PENDING_STREAMS = 32;
/** Handshake failures tolerated on one socket; at this many it is closed and re-dialled (reference: 8). */
export const RELAY_MAX_HANDSHAKE_FAILURES = 8;
/**
 * Bytes queued on the socket (not yet taken by the kernel) above which
 * senders wait for it to drain. Bounds memory when the rendezvous reads
 * slowly: a slow rendezvous slows every stream instead of growing the queue.
 */
export const RELAY_SEND_HIGH_WATER_BYTES = 1024 * 1024;
/**
 * Bytes one stream may have waiting for the socket to drain (sent without
 * waiting for the previous send). Past it only that stream is reset, so one
 * runaway sender cannot grow the executor (the reference has no bound).
 */
export const RELAY_MAX_STREAM_WAITING_BYTES = 1024 * 1024;
