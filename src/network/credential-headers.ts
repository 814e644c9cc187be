/**
 * Where a custom provider's dummy may stand in a request, by its `auth`
 * (probed on 0.171.0): `bearer` and `token` — `Authorization: Bearer <dummy>`
 * / `token <dummy>`, the scheme in any case, the whole value (`Bearer
 * x<dummy>` and a bare `<dummy>` stay as sent); `basic` — the password of
 * `Authorization: Basic base64(user:<dummy>)`; `header` — the named header
 * holding exactly `prefix` + dummy. Each gives the header value with the real
 * credential in the dummy's place, or null when it holds none.
 */
import type { AuthMethod } from "./credential-providers.ts";

export type HeaderTranslation = { auth: Set<AuthMethod>; header: string | null; prefix: string; dummy: string; real: string };

/** `name` is lower case; `value` trimmed. */
export function translateHeader(t: HeaderTranslation, name: string, value: string): string | null {
  if (t.auth.has("header") && name === t.header && value === `${t.prefix}${t.dummy}`) return `${t.prefix}${t.real}`;
  if (name !== "authorization") return null;
  const m = /^(\S+)\s+(\S+)$/.exec(value);
  if (!m) return null;
  const [, scheme, credential] = m as unknown as [string, string, string];
  const lower = scheme.toLowerCase();
  if ((lower === "bearer" || lower === "token") && t.auth.has(lower) && credential === t.dummy) return `${scheme} ${t.real}`;
  if (lower === "basic" && t.auth.has("basic")) {
    const decoded = Buffer.from(credential, "base64");
    const colon = decoded.indexOf(":");
    if (colon < 0 || decoded.subarray(colon + 1).toString("latin1") !== t.dummy) return null;
    // The user's bytes as they came; the real password as UTF-8.
    return `${scheme} ${Buffer.concat([decoded.subarray(0, colon + 1), Buffer.from(t.real)]).toString("base64")}`;
  }
  return null;
}
