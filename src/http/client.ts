/**
 * The HTTP client behind `http/request`, sending what the reference's
 * (reqwest + hyper) client sends, byte for byte as probed on the raw fixture
 * (0.169.0 and 0.171.0): the caller's headers with lower-cased names, grouped
 * by name in first-seen order; then `accept` (any type) and `accept-encoding:
 * zstd,gzip` unless given (even with a `range`, probed), a
 * `referer` after a redirect, the jar's `cookie`, `host` unless given, and
 * `content-length` for a non-empty body. Nothing else: no user-agent, no
 * connection header. Redirects are followed up to 10 hops the way the
 * reference's route-aware client follows them (codex-rs http-client
 * route_aware_redirect.rs); gzip and zstd bodies are decoded (0.171.0;
 * 0.169.0 passes them through).
 */
import { once } from "node:events";
import type { Duplex } from "node:stream";
import zlib from "node:zlib";
import { HeaderMap } from "./header-map.ts";
import type { CloudflareCookieJar } from "./cookie-jar.ts";
import { type Connect, exchange, type RawResponse, startTls } from "./http1.ts";
import { openTunnel, proxyAuthorization, proxyFor } from "./proxy.ts";

/** Redirects followed before giving up, as the reference's route-aware client does (probed: the 11th redirect response is an error). */
export const MAX_REDIRECTS = 10;

export type ClientRequest = {
  method: string;
  /** Without credentials (see splitCredentials). */
  url: URL;
  /** `authorization` from the URL's credentials, placed before the caller's headers. */
  authorization?: string;
  headers: [string, string][];
  body: Uint8Array | undefined;
  followRedirects: boolean;
  signal: AbortSignal;
};
export type ClientResponse = { status: number; headers: HeaderMap; body: ReadableStream<Uint8Array> };

/** A failure with the reference's (reqwest's) wording of what went wrong, for which URL. */
export class ClientError extends Error {}

/** How hops reach the network, the cookie jar, and the environment proxies are read from. */
export type ClientDeps = { connect: Connect; jar: CloudflareCookieJar; env: Record<string, string | undefined> };

export async function send(req: ClientRequest, deps: ClientDeps): Promise<ClientResponse> {
  // What the caller asked for; each hop adds the client's own headers to a copy (see withDefaults).
  const headers = new HeaderMap();
  if (req.authorization) headers.append("authorization", req.authorization);
  // As reqwest merges a request's headers: a name's first value replaces what is there, in place; repeats append.
  const given = new Set<string>();
  for (const [name, value] of req.headers) {
    if (given.has(name.toLowerCase())) headers.append(name, value);
    else headers.insert(name, value);
    given.add(name.toLowerCase());
  }
  let { method, url, body } = req;
  for (let redirects = 0; ; redirects++) {
    const res = await exchangeOnce(method, url, withDefaults(headers, url, deps.jar), body, req.signal, deps);
    deps.jar.store(url, res.headers.getAll("set-cookie"));
    const next = req.followRedirects ? redirectTarget(res, url) : undefined;
    if (!next) return { status: res.status, headers: res.headers, body: decoded(res) };
    res.close();
    if (redirects >= MAX_REDIRECTS) throw new ClientError("too many redirects");
    if (dropsBody(res.status, method)) {
      if (res.status === 303 ? method !== "HEAD" : method === "POST") method = "GET";
      body = undefined;
      for (const name of ["content-type", "content-length", "content-encoding", "transfer-encoding"]) headers.remove(name);
    }
    if (!sameOrigin(next, url)) for (const name of ["authorization", "cookie", "proxy-authorization", "www-authenticate", "cookie2"]) headers.remove(name);
    const referer = refererFor(next, url);
    if (referer) headers.insert("referer", referer);
    url = next;
  }
}

/**
 * A URL's user and password become `authorization: Basic …` and leave the
 * URL (so error texts never show them), as the reference does (probed:
 * `http://u%40x:p%3Aq@host/` sends `Basic dUB4OnA6cQ==`, `http://user@host/`
 * sends `Basic dXNlcjo=`).
 */
export function splitCredentials(url: URL): { url: URL; authorization?: string } {
  if (!url.username && !url.password) return { url };
  const bare = new URL(url.href);
  bare.username = "";
  bare.password = "";
  const pair = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
  return { url: bare, authorization: `Basic ${Buffer.from(pair).toString("base64")}` };
}

/** A 303, or a 301/302 answering a POST, turns the next hop into a bodiless GET (HEAD stays HEAD on a 303). */
function dropsBody(status: number, method: string): boolean {
  return status === 303 || ((status === 301 || status === 302) && method === "POST");
}

/** The hop's headers: the caller's, then `accept`, `accept-encoding` and the jar's `cookie` where the caller gave none. */
function withDefaults(headers: HeaderMap, url: URL, jar: CloudflareCookieJar): HeaderMap {
  const out = headers.clone();
  if (!out.has("accept")) out.append("accept", "*/*");
  if (!out.has("accept-encoding")) out.append("accept-encoding", "zstd,gzip");
  const cookie = jar.header(url);
  if (cookie && !out.has("cookie")) out.append("cookie", cookie);
  return out;
}

async function exchangeOnce(method: string, url: URL, headers: HeaderMap, body: Uint8Array | undefined, signal: AbortSignal, deps: ClientDeps): Promise<RawResponse> {
  const secure = url.protocol === "https:";
  const port = Number(url.port || (secure ? 443 : 80));
  const proxy = proxyFor(url, deps.env);
  const auth = proxy && proxyAuthorization(proxy);
  // Through a proxy, http goes in absolute form (with the proxy's credentials); https through a tunnel.
  const forwarded = proxy !== undefined && !secure;
  let head = `${method} ${forwarded ? url.origin : ""}${url.pathname || "/"}${url.search} HTTP/1.1\r\n`;
  for (const [name, value] of headers.pairs()) head += `${name}: ${value}\r\n`;
  if (!headers.has("host")) head += `host: ${url.host}\r\n`;
  if (forwarded && auth && !headers.has("proxy-authorization")) head += `proxy-authorization: ${auth}\r\n`;
  if (body && body.byteLength > 0 && !headers.has("content-length")) head += `content-length: ${body.byteLength}\r\n`;
  head += "\r\n";
  try {
    if (signal.aborted) throw signal.reason;
    let socket: Duplex;
    if (!proxy) socket = await deps.connect({ host: url.hostname, port, tls: secure }, signal);
    else {
      const proxyPort = Number(proxy.port || (proxy.protocol === "https:" ? 443 : 80));
      socket = await deps.connect({ host: proxy.hostname, port: proxyPort, tls: proxy.protocol === "https:" }, signal);
      if (secure) socket = await startTls(await openTunnel(socket, `${url.hostname}:${port}`, auth), url.hostname);
    }
    signal.addEventListener("abort", () => socket.destroy(new Error("aborted")), { once: true });
    return await exchange(socket, head, body, method);
  } catch {
    throw new ClientError(`error sending request for url (${url.href})`);
  }
}

function redirectTarget(res: RawResponse, url: URL): URL | undefined {
  if (![301, 302, 303, 307, 308].includes(res.status)) return undefined;
  const location = res.headers.get("location");
  if (location === undefined) return undefined;
  try {
    const next = new URL(location, url);
    return next.protocol === "http:" || next.protocol === "https:" ? next : undefined;
  } catch {
    return undefined;
  }
}

function sameOrigin(a: URL, b: URL): boolean {
  return a.protocol === b.protocol && a.hostname === b.hostname && portOf(a) === portOf(b);
}
const portOf = (u: URL) => u.port || (u.protocol === "https:" ? "443" : "80");

/** reqwest's Referer: the previous URL without credentials or fragment, never from https to http. */
function refererFor(next: URL, previous: URL): string | undefined {
  if (next.protocol === "http:" && previous.protocol === "https:") return undefined;
  const r = new URL(previous.href);
  r.username = "";
  r.password = "";
  r.hash = "";
  return r.href;
}

/**
 * The body as a stream, decoded when the server used gzip or zstd (the
 * encodings the client offered); content-encoding and content-length then
 * no longer describe it and are removed, as 0.171.0 removes them.
 */
function decoded(res: RawResponse): ReadableStream<Uint8Array> {
  const encoding = res.headers.getAll("content-encoding");
  const coding = encoding.length === 1 ? encoding[0]!.toLowerCase() : undefined;
  let iter = res.body;
  if ((coding === "gzip" || coding === "zstd") && res.headers.get("content-length") !== "0") {
    // Even a HEAD answer loses the two headers (probed); only a body that is there gets decoded.
    res.headers.remove("content-encoding");
    res.headers.remove("content-length");
    if (!res.bodiless) iter = inflate(res.body, coding);
  }
  return new ReadableStream<Uint8Array>({
    async pull(c) {
      const { done, value } = await iter.next();
      if (done) c.close();
      else c.enqueue(value);
    },
    async cancel() {
      await iter.return(undefined);
    },
  });
}

/** Decodes a body through zlib, chunk by chunk; a corrupt or cut-off body throws after what decoded. */
async function* inflate(source: AsyncGenerator<Uint8Array>, coding: "gzip" | "zstd"): AsyncGenerator<Uint8Array> {
  const z = coding === "gzip" ? zlib.createGunzip() : zlib.createZstdDecompress();
  const feed = (async () => {
    try {
      for await (const chunk of source) if (!z.write(chunk)) await once(z, "drain");
      z.end();
    } catch (e) {
      z.destroy(e as Error);
    }
  })();
  try {
    for await (const out of z) yield out as Uint8Array;
  } finally {
    z.destroy();
    await source.return(undefined);
    await feed;
  }
}
