/**
 * WebSocket upgrade authentication: a capability token (its SHA-256 compared
 * in constant time) or an HS256-signed bearer JWT. Only the `Authorization:
 * Bearer` header of the upgrade counts. Returns the plain-text reason for a
 * 401, never anything derived from the secret or the presented token.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { type JwtConfig, JwtFailure, checkJwt, wireJwtFailure } from "./jwt.ts";

/** Default leeway for `exp`/`nbf`, seconds (the reference's). */
export const DEFAULT_MAX_CLOCK_SKEW_SECONDS = 30;
/** Shortest HS256 secret accepted, bytes (the reference's). */
export const MIN_SIGNED_SECRET_BYTES = 32;
/**
 * Shortest capability token accepted from `--ws-token-file`, bytes after
 * trimming: 128 bits, so a random token cannot be guessed online. The
 * reference accepts any non-empty token (one byte is 256 guesses).
 */
export const MIN_CAPABILITY_TOKEN_BYTES = 16;
/**
 * Permission bits a secret file must not have (group and other, as ssh
 * requires of a private key): a token others can read is no secret.
 */
export const SECRET_FILE_FORBIDDEN_MODE = 0o077;

export type AuthConfig =
  /** `tokenSha256` is secret-equivalent: never log it. */
  | { mode: "capability-token"; tokenSha256: Buffer }
  /** `secret` is a secret: never log it. */
  | ({ mode: "signed-bearer-token" } & JwtConfig);

export const AuthFailure = {
  missing: "missing websocket bearer token",
  badHeader: "invalid authorization header",
  badToken: "invalid websocket bearer token",
  ...JwtFailure,
} as const;

/**
 * Checks an upgrade's `Authorization` header; returns the reason it is refused
 * (for the executor's log) or undefined when allowed. The client's 401 text is
 * `refusalText(reason)`.
 */
export function checkAuthorization(header: string | null, config: AuthConfig, nowSeconds: number): string | undefined {
  if (header === null) return AuthFailure.missing;
  const space = header.indexOf(" ");
  if (space < 0) return AuthFailure.badHeader;
  const token = header.slice(space + 1).trim();
  if (header.slice(0, space).toLowerCase() !== "bearer" || token === "") return AuthFailure.badHeader;
  if (config.mode === "capability-token") {
    const digest = createHash("sha256").update(token).digest();
    return timingSafeEqual(digest, config.tokenSha256) ? undefined : AuthFailure.badToken;
  }
  return checkJwt(token, config, nowSeconds);
}

/** The plain-text body of the 401 for a refusal reason: the reference's wording (a JWT's precise reason is only logged). */
export function refusalText(reason: string): string {
  return wireJwtFailure(reason);
}
