/**
 * The JSON key object of the registry API (remote.md §5.2, §2.3–2.5):
 * `{"suite","x25519_public_key","mlkem768_public_key"}`, padded standard
 * base64, unknown fields rejected, exact lengths, suite equal to the label.
 */
import { z } from "zod";
import { decodeBase64, encodeBase64 } from "../../protocol/base64.ts";
import { NoiseError } from "./errors.ts";
import type { HybridPublicKeys } from "./keys.ts";
import { MLKEM768_PUBLIC_KEY_BYTES, X25519_KEY_BYTES } from "./limits.ts";
import { SUITE_LABEL } from "./names.ts";

/** Strict padded standard base64 that decodes to exactly `bytes` bytes. */
function base64Key(bytes: number) {
  return z.string().transform((text, ctx) => {
    let decoded: Uint8Array;
    try {
      decoded = new Uint8Array(decodeBase64(text));
    } catch (err) {
      ctx.addIssue({ code: "custom", message: `not padded standard base64: ${(err as Error).message}` });
      return z.NEVER;
    }
    if (decoded.length !== bytes) {
      ctx.addIssue({ code: "custom", message: `must decode to ${bytes} bytes, got ${decoded.length}` });
      return z.NEVER;
    }
    return decoded;
  });
}

/** Wire schema; parsing yields the decoded key bytes. */
export const NoiseKeyJsonSchema = z.strictObject({
  suite: z.literal(SUITE_LABEL),
  x25519_public_key: base64Key(X25519_KEY_BYTES),
  mlkem768_public_key: base64Key(MLKEM768_PUBLIC_KEY_BYTES),
});

/** The key object as sent on the wire. */
export type NoiseKeyJson = z.input<typeof NoiseKeyJsonSchema>;

/** Encodes public keys as the registry's key object. */
export function toNoiseKeyJson(keys: HybridPublicKeys): NoiseKeyJson {
  return {
    suite: SUITE_LABEL,
    x25519_public_key: encodeBase64(keys.x25519),
    mlkem768_public_key: encodeBase64(keys.mlkem768),
  };
}

/**
 * Decodes a key object (already JSON-parsed), or throws `NoiseError("key")`
 * naming the first offending field, e.g.
 * `invalid Noise key object: mlkem768_public_key: must decode to 1184 bytes, got 1183`.
 */
export function parseNoiseKeyJson(value: unknown): HybridPublicKeys {
  const parsed = NoiseKeyJsonSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length > 0 ? `${issue.path.join(".")}: ` : "";
    throw new NoiseError("key", `invalid Noise key object: ${where}${issue.message}`);
  }
  return { x25519: parsed.data.x25519_public_key, mlkem768: parsed.data.mlkem768_public_key };
}
