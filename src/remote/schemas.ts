/**
 * The registry's HTTP bodies (remote.md §2), one zod schema per message, used
 * by the client and by the fake registry in tests. Replies tolerate unknown
 * fields (serde's default) and require every field the reference requires.
 */
import { z } from "zod";

export const NOISE_SUITE = "Noise_hybridIK_X25519+MLKEM768_AESGCM_SHA256";
export const SECURITY_PROFILE = "noise_hybrid_ik_v1";
export const DIRECT_TRANSPORT = "direct_jsonrpc_v1";
/** Noise message 2's payload when the registry refused the executor's own credentials on `validate` (§2.4). */
export const REGISTRY_AUTH_REJECTED_MARKER = "codex-registry-authentication-rejected/v1";

/**
 * A static key object (`{suite, x25519_public_key, mlkem768_public_key}`).
 * The registry client carries it as given; its strict shape (lengths, suite,
 * no unknown fields) is checked where the Noise keys are built.
 */
export const PublicKeyObject = z.json();
export type PublicKeyObject = z.infer<typeof PublicKeyObject>;

/** `POST …/register` */
export const RegisterRequest = z.object({ security_profile: z.literal(SECURITY_PROFILE), executor_public_key: PublicKeyObject });
export const RegisterResponse = z.object({
  environment_id: z.string(),
  url: z.string(),
  security_profile: z.string(),
  executor_registration_id: z.string(),
});

/** `POST …/validate` (sent with `x-codex-noise-stream-id`) */
export const ValidateRequest = z.object({
  executor_registration_id: z.string(),
  harness_public_key: PublicKeyObject,
  harness_key_authorization: z.string(),
});
export const ValidateResponse = z.object({ valid: z.boolean() });

/** `POST …/connect` (harness side) */
export const ConnectRequest = z.object({ harness_public_key: PublicKeyObject });
export const ConnectResponse = z.object({
  environment_id: z.string(),
  url: z.string(),
  security_profile: z.string(),
  executor_registration_id: z.string(),
  executor_public_key: PublicKeyObject,
  harness_key_authorization: z.string(),
});

/** `POST …/direct/register` */
export const DirectRegisterRequest = z.object({ transport: z.literal(DIRECT_TRANSPORT) });
export const DirectRegisterResponse = z.object({
  environment_id: z.string(),
  transport: z.string(),
  registration_id: z.string(),
  url: z.string(),
});

/** Any non-2xx body, parsed only for diagnostics and the conflict rule; both fields optional. */
export const RegistryErrorBody = z.object({
  error: z.object({ code: z.string().nullish(), message: z.string().nullish() }).nullish(),
});

export type RegisterResponse = z.infer<typeof RegisterResponse>;
export type ValidateRequest = z.infer<typeof ValidateRequest>;
export type ConnectResponse = z.infer<typeof ConnectResponse>;
export type DirectRegisterResponse = z.infer<typeof DirectRegisterResponse>;
