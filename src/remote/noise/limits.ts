/**
 * Limits of the Noise layer (remote.md §5). Each is the reference's (0.169.0)
 * unless said otherwise; exceeding one is a `NoiseError` the caller answers
 * with a relay reset.
 */

const KiB = 1024;
const MiB = 1024 * KiB;

/** X25519 public key and shared-secret length. */
export const X25519_KEY_BYTES = 32;
/** ML-KEM-768 encapsulation key (FIPS 203). */
export const MLKEM768_PUBLIC_KEY_BYTES = 1184;
/** ML-KEM-768 ciphertext (FIPS 203). */
export const MLKEM768_CIPHERTEXT_BYTES = 1088;
/** AES-256-GCM tag. */
export const TAG_BYTES = 16;

/** Message 1 without its payload: skem 1088 + e 1216 + s 1248 + payload tag 16 (§5.4, observed). */
export const MESSAGE1_OVERHEAD_BYTES = 3568;
/** Message 2 without its payload: ekem 1088 + skem 1104 + e 1216 + payload tag 16 (§5.4, observed). */
export const MESSAGE2_OVERHEAD_BYTES = 3424;

/**
 * Largest message-1 payload (the UTF-8 `harness_key_authorization`). The
 * reference refuses longer; checked from the message length before any
 * public-key work, so an oversized message 1 costs nothing.
 */
export const MAX_HANDSHAKE_PAYLOAD_BYTES = 4096;

/** A Noise message, ciphertext included, is at most 65535 bytes (Noise spec §3). */
export const MAX_NOISE_MESSAGE_BYTES = 65535;

/**
 * Largest plaintext the sender puts in one transport record: 60 KiB, as the
 * reference cuts its framed stream. Leaves room for the tag under 65535.
 */
export const MAX_RECORD_PLAINTEXT_BYTES = 60 * KiB;

/**
 * Records per direction. `seq` is a uint32 on the relay and equals the
 * nonce, so the 2^32-th record could not be numbered; sending it is an error.
 */
export const MAX_RECORDS_PER_DIRECTION = 2 ** 32 - 1;

/** Application framing: the 4-byte big-endian length before each JSON message. */
export const FRAME_HEADER_BYTES = 4;
/** Smallest framed message: an empty one cannot be carried (the reference resets). */
export const MIN_MESSAGE_BYTES = 1;
/** Largest framed JSON message (reference). */
export const MAX_MESSAGE_BYTES = 64 * MiB;
/**
 * Reassembly buffer cap, header + largest message (reference). The
 * reassembler allocates a message only after checking its length, so it
 * never holds more than this.
 */
export const MAX_REASSEMBLY_BYTES = FRAME_HEADER_BYTES + MAX_MESSAGE_BYTES;

/** Receive reorder window: a record may arrive at most this far ahead of `next_seq` (reference). */
export const REORDER_WINDOW = 64;
/** Out-of-order records held at once (reference). */
export const MAX_BUFFERED_RECORDS = 64;
/** Ciphertext bytes held out of order at once (reference); bounds a peer that skips a seq and floods. */
export const MAX_BUFFERED_CIPHERTEXT_BYTES = 1 * MiB;
