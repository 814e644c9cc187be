/**
 * The strings of the `noise_hybrid_ik_v1` security profile (remote.md §5.1,
 * §5.3, §2.4). The suite label and the transcript name differ on purpose:
 * the reference hashes Clatter's component names (`25519`), while the
 * registry JSON says `X25519`. Hashing the label fails the first message.
 */

/** Registry `security_profile`. */
export const SECURITY_PROFILE = "noise_hybrid_ik_v1";

/** Suite label in the key JSON and registry bodies (never hashed). */
export const SUITE_LABEL = "Noise_hybridIK_X25519+MLKEM768_AESGCM_SHA256";

/** Hash functions a handshake can run with: SHA256 for the suite, SHA512 for the published vector. */
export type HashName = "SHA256" | "SHA512";

/** Transcript protocol name hashed into `h`, built from Clatter component names. */
export function transcriptName(hash: HashName): string {
  return `Noise_hybridIK_25519+MLKEM768_AESGCM_${hash}`;
}

/** The suite's transcript name, `Noise_hybridIK_25519+MLKEM768_AESGCM_SHA256` (44 bytes). */
export const SUITE_TRANSCRIPT_NAME = transcriptName("SHA256");

/** First prologue part (§5.3). */
export const PROLOGUE_LABEL = "codex-exec-server-relay-noise/v1";

/**
 * Message-2 payload the executor sends when the registry answered 401/403 to
 * `validate` (§2.4): an authenticated "the registry rejected my credentials".
 */
export const REGISTRY_AUTH_REJECTED_MARKER = "codex-registry-authentication-rejected/v1";
