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
/** Streams whose harness key is validated at once (reference: 32, and it resets one more handshake). */
export const RELAY_MAX_PENDING_STREAMS = 32;
/**
 * Handshakes that arrive while RELAY_MAX_PENDING_STREAMS are being validated
 * wait, in arrival order, for a slot instead of being reset (the reference
 * resets them: 60 simultaneous opens lost 28 streams there). One more is
 * reset ("Noise relay has too many pending handshakes"). Bounds what waiting
 * handshakes hold: at most 128 message 1s of ≤ 7,664 bytes.
 */
export const RELAY_MAX_QUEUED_HANDSHAKES = 128;
/** Handshake failures tolerated on one socket; at this many it is closed and re-dialled (reference: 8). */
export const RELAY_MAX_HANDSHAKE_FAILURES = 8;
/**
 * Bytes queued on the socket (not yet taken by the kernel) above which data
 * frames wait for it to drain. Bounds memory when the rendezvous reads
 * slowly: a slow rendezvous slows every stream instead of growing the queue.
 * Queued frames are copies (the encoder's buffer is reused) while waiting ones
 * are the records themselves, so a low mark costs no memory: 256 KiB instead
 * of 1 MiB took 5-6 MiB off the executor's peak RSS streaming 64 MiB
 * (bench/remote-probe.ts) at no measurable cost in throughput; the kernel's
 * socket buffer does the buffering.
 */
export const RELAY_SEND_HIGH_WATER_BYTES = 256 * 1024;
/**
 * Bytes queued on the socket below which a handshake reply or a reset is
 * still queued at once, ahead of data frames waiting for the socket (they
 * belong to other streams: nothing is reordered within a stream). A handshake
 * reply that cannot be queued drops the socket (§5.5), so this bounds only a
 * rendezvous that has stopped reading, not one that is merely busy.
 */
export const RELAY_CONTROL_HIGH_WATER_BYTES = 1024 * 1024;
/**
 * Bytes one stream may have waiting for the socket to drain (sent without
 * waiting for the previous send). Past it only that stream is reset, so one
 * runaway sender cannot grow the executor (the reference has no bound).
 */
export const RELAY_MAX_STREAM_WAITING_BYTES = 1024 * 1024;
