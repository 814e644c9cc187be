/**
 * The one error type of the Noise layer. `code` is stable and closed: the
 * relay turns every one of them into a stream reset, and logs `message`
 * (never key material).
 */
export type NoiseErrorCode =
  /** Handshake message malformed, out of turn, or failing authentication. */
  | "handshake"
  /** A transport record failed to decrypt (tampered, wrong key, wrong order). */
  | "decrypt"
  /** A record, message or sequence limit was exceeded. */
  | "limit"
  /** The application framing inside the decrypted stream is invalid. */
  | "framing"
  /** Key JSON or key bytes are invalid. */
  | "key";

export class NoiseError extends Error {
  constructor(
    readonly code: NoiseErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "NoiseError";
  }
}
