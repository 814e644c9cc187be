/**
 * WebSocket upgrade authentication: a capability token (its SHA-256 compared
 * in constant time) or an HS256-signed bearer JWT. Only the `Authorization:
 * Bearer` header of the upgrade counts. Returns the plain-text reason for a
 * 401, never anything derived from the secret or the presented token.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";

/** Default leeway for `exp`/`nbf`, seconds (the reference's). */
export const DEFAULT_MAX_CLOCK_SKEW_SECONDS = 30;
/** Shortest HS256 secret accepted, bytes (the reference's). */
export const MIN_SIGNED_SECRET_BYTES = 32;

export type AuthConfig =
  /** `tokenSha256` is secret-equivalent: never log it. */
  | { mode: "capability-token"; tokenSha256: Buffer }
  /** `secret` is a secret: never log it. */
  | { mode: "signed-bearer-token"; secret: Buffer; issuer?: string; audience?: string; maxClockSkewSeconds: number };

export const AuthFailure = {
  missing: "missing websocket bearer token",
  badHeader: "invalid authorization header",
  badToken: "invalid websocket bearer token",
  badJwt: "invalid websocket jwt",
  expired: "expired websocket jwt",
  notYetValid: "websocket jwt is not valid yet",
  issuer: "websocket jwt issuer mismatch",
  audience: "websocket jwt audience mismatch",
} as const;

/** Checks an upgrade's `Authorization` header; returns a failure text or undefined when allowed. */
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

function checkJwt(token: string, config: Extract<AuthConfig, { mode: "signed-bearer-token" }>, now: number): string | undefined {
  const parts = token.split(".");
  if (parts.length !== 3) return AuthFailure.badJwt;
  const [head, body, signature] = parts as [string, string, string];
  const header = parseJson(head);
  if (header?.alg !== "HS256") return AuthFailure.badJwt;
  const expected = createHmac("sha256", config.secret).update(`${head}.${body}`).digest();
  const given = Buffer.from(signature, "base64url");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return AuthFailure.badJwt;
  const claims = parseJson(body);
  if (!claims || typeof claims.exp !== "number") return AuthFailure.badJwt;
  const skew = config.maxClockSkewSeconds;
  if (now > claims.exp + skew) return AuthFailure.expired;
  if (claims.nbf !== undefined && (typeof claims.nbf !== "number" || now < claims.nbf - skew)) return AuthFailure.notYetValid;
  if (config.issuer !== undefined && claims.iss !== config.issuer) return AuthFailure.issuer;
  if (config.audience !== undefined) {
    const aud = claims.aud;
    const ok = aud === config.audience || (Array.isArray(aud) && aud.includes(config.audience));
    if (!ok) return AuthFailure.audience;
  }
  return undefined;
}

function parseJson(segment: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(Buffer.from(segment, "base64url").toString("utf8"));
    return value !== null && typeof value === "object" && !Array.isArray(value) ? value : undefined;
  } catch {
    return undefined;
  }
}
