/** Limits and timers of the registry client (remote mode), with the reference's values where it has one. */

/**
 * Largest `--registration-bearer-stdin` line, newline included (reference
 * 0.169.0: 16,383 bytes + `\n` is accepted, 16,384 + `\n` refused). A real
 * bearer is a few KiB; the cap bounds what is read from the pipe.
 */
export const REGISTRATION_BEARER_MAX_BYTES = 16 * 1024;
/** Budget of one registry request, connect to last byte (reference: ~10 s for register, connect and validate). */
export const REGISTRY_REQUEST_TIMEOUT_MS = 10_000;
/**
 * Largest registry reply body, after decompression. Replies are a few hundred
 * bytes (the biggest, `connect`, carries a 1184-byte key as base64); the cap
 * stops a compressed reply from inflating without bound.
 */
export const REGISTRY_RESPONSE_MAX_BYTES = 1024 * 1024;
/** First delay before retrying a `registration_conflict` (reference: 0.5 s, observed 0.50–0.74 s). */
export const REGISTRATION_CONFLICT_BASE_DELAY_MS = 500;
/** The delay doubles per attempt up to this cap (reference: delays settle at 5.0–7.2 s, i.e. 5 s × jitter). */
export const REGISTRATION_CONFLICT_MAX_DELAY_MS = 5_000;
/**
 * Each delay is multiplied by 1 + a uniform draw in [0, this), so executors
 * racing for one environment spread out (reference: factors 1.0–1.5 observed).
 */
export const REGISTRATION_CONFLICT_JITTER = 0.5;
/**
 * Ciphertext bytes one stream hands to the relay before the previous ones
 * were taken by the socket. Kept well under RELAY_MAX_STREAM_WAITING_BYTES
 * (1 MiB, past which the relay resets the stream) so a large reply waits in
 * the stream's own queue instead of getting its stream reset.
 */
export const REMOTE_STREAM_IN_FLIGHT_BYTES = 256 * 1024;
/**
 * Sealed bytes queued in a stream (not yet handed to the relay) above which
 * its transport reports "congested": the connection's flow then holds further frames
 * and its producers wait, as on a backed-up WebSocket. Nothing is dropped.
 */
export const REMOTE_STREAM_CONGESTED_BYTES = 512 * 1024;
/**
 * Messages a stream takes while the server asked it to stop reading (the
 * relay cannot push back on one stream). One more resets the stream, as the
 * reference resets a stream whose 128-message inbound queue is full.
 */
export const REMOTE_STREAM_PAUSED_INBOUND_MESSAGES = 128;
