/**
 * Strict HS256 JWT (RFC 7519 / 7515 compact form) verification for
 * `--ws-auth signed-bearer-token`. Stricter than the reference on purpose:
 * one byte string has exactly one accepted spelling, and a header or claim
 * execbox cannot honour fails closed instead of being skipped.
 *
 * Order: encoding and header are checked before the signature (nothing there
 * depends on the secret); the claims are read only once the signature holds.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { stringEnd } from "../protocol/json-numbers.ts";

/**
 * Latest `exp`/`nbf`/`iat` accepted: 9999-12-31T23:59:59Z. A NumericDate past
 * that (or negative, or not an integer) is not a date any issuer means; it
 * would only ever be a way to mint a token that never expires.
 */
export const MAX_NUMERIC_DATE = 253_402_300_799;

export type JwtConfig = {
  /** A secret: never log it. */
  secret: Buffer;
  issuer?: string;
  audience?: string;
  maxClockSkewSeconds: number;
};

export const JwtFailure = {
  /** The reference's text: bad signature, format or algorithm, missing `exp`. */
  invalid: "invalid websocket jwt",
  encoding: "invalid websocket jwt encoding",
  duplicate: "invalid websocket jwt: duplicate member",
  crit: "unsupported critical websocket jwt header",
  exp: "invalid websocket jwt exp claim",
  nbf: "invalid websocket jwt nbf claim",
  iat: "invalid websocket jwt iat claim",
  expired: "expired websocket jwt",
  notYetValid: "websocket jwt is not valid yet",
  issuer: "websocket jwt issuer mismatch",
  audience: "websocket jwt audience mismatch",
} as const;

/**
 * Refusals the reference makes too but words as plain `invalid websocket jwt`
 * (it also refuses tokens with non-canonical signatures, duplicate members,
 * non-integer or out-of-range dates) or that only execbox makes (padded
 * header or claims, `crit`, dates past 2^53 or the year 9999, negative `nbf`,
 * any bad `iat`). On the wire all of them read as the reference's text; the
 * precise reason goes to the executor's log (`wireJwtFailure`).
 */
const REFERENCE_WORDS_AS_INVALID: ReadonlySet<string> = new Set([
  JwtFailure.encoding,
  JwtFailure.duplicate,
  JwtFailure.crit,
  JwtFailure.exp,
  JwtFailure.nbf,
  JwtFailure.iat,
]);

/** The 401 text a client gets for a refusal reason: the reference's wording for the same token. */
export function wireJwtFailure(reason: string): string {
  return REFERENCE_WORDS_AS_INVALID.has(reason) ? JwtFailure.invalid : reason;
}

/** Returns the reason a token does not pass (see `wireJwtFailure` for what the client is told), undefined when it does. */
export function checkJwt(token: string, config: JwtConfig, now: number): string | undefined {
  const parts = token.split(".");
  if (parts.length !== 3) return JwtFailure.invalid;
  const [head, body, signature] = parts as [string, string, string];
  if (![head, body, signature].every(isCanonicalBase64url)) return JwtFailure.encoding;
  const header = decodeObject(head);
  if (header === DUPLICATE) return JwtFailure.duplicate;
  if (header?.alg !== "HS256") return JwtFailure.invalid;
  // RFC 7515 §4.1.11: a `crit` listing anything not understood must be rejected; execbox understands no extension.
  if ("crit" in header) return JwtFailure.crit;
  const expected = createHmac("sha256", config.secret).update(`${head}.${body}`).digest();
  const given = Buffer.from(signature, "base64url");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return JwtFailure.invalid;
  const claims = decodeObject(body);
  if (claims === DUPLICATE) return JwtFailure.duplicate;
  return claims ? checkClaims(claims, config, now) : JwtFailure.invalid;
}

/** The claims of a token whose signature holds: dates first (all of them well-formed), then time, issuer, audience. */
function checkClaims(claims: Claims, config: JwtConfig, now: number): string | undefined {
  if (claims.exp === undefined || claims.exp === null) return JwtFailure.invalid;
  // A negative integer `exp` has long passed: the reference says so.
  if (typeof claims.exp === "number" && Number.isInteger(claims.exp) && claims.exp < 0) return JwtFailure.expired;
  if (!isNumericDate(claims.exp)) return JwtFailure.exp;
  // `null` reads as absent, as serde's Option does (the reference accepts `"nbf":null`).
  if (claims.nbf != null && !isNumericDate(claims.nbf)) return JwtFailure.nbf;
  if (claims.iat != null && !isNumericDate(claims.iat)) return JwtFailure.iat;
  const skew = config.maxClockSkewSeconds;
  if (now > claims.exp + skew) return JwtFailure.expired;
  if (claims.nbf != null && now < claims.nbf - skew) return JwtFailure.notYetValid;
  if (config.issuer !== undefined && claims.iss !== config.issuer) return JwtFailure.issuer;
  if (config.audience !== undefined) {
    const aud = claims.aud;
    const ok = aud === config.audience || (Array.isArray(aud) && aud.includes(config.audience));
    if (!ok) return JwtFailure.audience;
  }
  return undefined;
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;

/**
 * Unpadded base64url whose unused trailing bits are zero: the only spelling
 * that re-encodes to itself. Padding, `+`/`/`, whitespace and a last
 * character differing only in unused bits (same bytes, another token) fail.
 */
function isCanonicalBase64url(segment: string): boolean {
  return BASE64URL.test(segment) && Buffer.from(segment, "base64url").toString("base64url") === segment;
}

const DUPLICATE = Symbol("duplicate member");
/** Invalid UTF-8 fails instead of turning into U+FFFD: two byte strings must not read as one claim. */
const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
type Claims = Record<string, unknown> & { exp?: unknown; nbf?: unknown; iat?: unknown };

/** A JSON object segment; DUPLICATE if any object in it repeats a member name (parsers disagree on which wins). */
function decodeObject(segment: string): Claims | typeof DUPLICATE | undefined {
  let text: string;
  let value: unknown;
  try {
    text = UTF8.decode(Buffer.from(segment, "base64url"));
    value = JSON.parse(text, exactIntegers);
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) return undefined;
  return hasDuplicateMember(text) ? DUPLICATE : (value as Claims);
}

/** A plain integer literal: `1.0`, `1e3` and `-0` are not NumericDates here. */
const INTEGER_LITERAL = /^(0|-?[1-9][0-9]*)$/;

/** JSON.parse reviver: numbers not written as plain integers become NaN, so no date check can pass them. */
function exactIntegers(_key: string, value: unknown, context?: { source?: string }): unknown {
  if (typeof value !== "number" || context?.source === undefined) return value;
  return INTEGER_LITERAL.test(context.source) ? value : Number.NaN;
}

function isNumericDate(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0 && v <= MAX_NUMERIC_DATE;
}

/** Scans valid JSON text for an object with a repeated member name. */
function hasDuplicateMember(text: string): boolean {
  const stack: (Set<string> | null)[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "{") {
      stack.push(new Set());
      expectKey = true;
    } else if (c === "[") {
      stack.push(null);
    } else if (c === "}" || c === "]") {
      stack.pop();
      expectKey = false;
    } else if (c === ",") {
      expectKey = stack[stack.length - 1] != null;
    } else if (c === '"') {
      const end = stringEnd(text, i);
      const keys = stack[stack.length - 1];
      if (expectKey && keys) {
        const key = JSON.parse(text.slice(i, end + 1)) as string;
        if (keys.has(key)) return true;
        keys.add(key);
        expectKey = false;
      }
      i = end;
    }
  }
  return false;
}
