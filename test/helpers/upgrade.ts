/** A bare WebSocket upgrade request, for checking what an executor answers before the handshake (auth, Origin). */
import { createHmac } from "node:crypto";

/** Upgrade with the given headers; returns the HTTP status and body (101 → "upgraded"). */
export async function upgrade(url: string, headers: Record<string, string>): Promise<[number, string]> {
  const res = await fetch(url.replace("ws://", "http://"), {
    headers: { connection: "Upgrade", upgrade: "websocket", "sec-websocket-version": "13", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==", ...headers },
  });
  return [res.status, res.status === 101 ? "upgraded" : await res.text()];
}

/** base64url of a JSON value, or of raw JSON text given as a string (for duplicate members, odd numbers). */
export const b64url = (json: unknown) => Buffer.from(typeof json === "string" ? json : JSON.stringify(json)).toString("base64url");

/** An HS256 signature over `head.body`, base64url. */
export const hs256 = (secret: string, head: string, body: string) => createHmac("sha256", secret).update(`${head}.${body}`).digest("base64url");

/** A compact JWT: header and claims as values or raw JSON text, signed with `secret` (HS512 when `alg` says so). */
export function jwt(claims: unknown, secret: string, header: unknown = { alg: "HS256", typ: "JWT" }): string {
  const head = b64url(header);
  const body = b64url(claims);
  const alg = (header as { alg?: string })?.alg;
  const sig = createHmac(alg === "HS512" ? "sha512" : "sha256", secret).update(`${head}.${body}`).digest("base64url");
  return `${head}.${body}.${sig}`;
}
