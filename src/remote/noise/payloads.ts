/**
 * The handshake payloads' meaning (remote.md §2.4, §5.4, §5.5): message 1
 * carries the harness key authorization, message 2 is empty or the
 * registry-rejection marker.
 */
import { NoiseError } from "./errors.ts";
import { MAX_HANDSHAKE_PAYLOAD_BYTES } from "./limits.ts";
import { REGISTRY_AUTH_REJECTED_MARKER } from "./names.ts";

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Message 1's payload as the `harness_key_authorization` string: UTF-8, at most 4096 bytes (§5.5 step 2). */
export function parseHarnessAuthorization(payload: Uint8Array): string {
  if (payload.length > MAX_HANDSHAKE_PAYLOAD_BYTES) {
    throw new NoiseError("handshake", `harness key authorization is ${payload.length} bytes; at most ${MAX_HANDSHAKE_PAYLOAD_BYTES} are allowed`);
  }
  try {
    return strictUtf8.decode(payload);
  } catch {
    throw new NoiseError("handshake", "harness key authorization is not valid UTF-8");
  }
}

/** The message-2 payload of a registry 401/403 (§2.4). */
export const REGISTRY_AUTH_REJECTED_PAYLOAD = new TextEncoder().encode(REGISTRY_AUTH_REJECTED_MARKER);

/**
 * What message 2's payload tells the harness: `accepted` (empty),
 * `registry-auth-rejected` (the marker), or `invalid` (anything else, a
 * handshake failure for the harness).
 */
export function classifyResponderPayload(payload: Uint8Array): "accepted" | "registry-auth-rejected" | "invalid" {
  if (payload.length === 0) return "accepted";
  const same =
    payload.length === REGISTRY_AUTH_REJECTED_PAYLOAD.length && payload.every((b, i) => b === REGISTRY_AUTH_REJECTED_PAYLOAD[i]);
  return same ? "registry-auth-rejected" : "invalid";
}
