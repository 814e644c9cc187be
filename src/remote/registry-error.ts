/**
 * Why a registry call failed, as a typed value. `message` is the reference's
 * text where it has one (the process prints it and exits 1).
 */
export type RegistryErrorKind =
  /** Bad base URL, blank environment id, no credentials: nothing was sent. */
  | "config"
  /** 401/403 from the registry, or credentials that could not be loaded. */
  | "auth"
  /** Any other non-2xx answer. */
  | "http"
  /** A 2xx answer that breaks the contract (ids, profile, missing fields, bad encoding). */
  | "protocol"
  /** No answer: refused, reset, timed out. */
  | "transport";

export class RegistryError extends Error {
  constructor(
    readonly kind: RegistryErrorKind,
    message: string,
    /** For "auth" and "http": the HTTP status and `error.code` of the answer. */
    readonly status?: number,
    readonly code?: string,
  ) {
    super(message);
  }
}
