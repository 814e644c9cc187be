/**
 * `http/request`: an HTTP call made by the executor (client.ts), answered
 * buffered or as a stream of `http/request/bodyDelta` notifications. Streams
 * belong to the connection and are cancelled when it closes.
 */
import { Base64Error, decodeBase64, encodeBase64 } from "../protocol/base64.ts";
import { internalError, invalidParams } from "../protocol/errors.ts";
import { describeUrlFailure } from "../protocol/url-errors.ts";
import { BodyPrefetch } from "./body-prefetch.ts";
import { type ClientDeps, ClientError, type ClientResponse, send, splitCredentials } from "./client.ts";
import { CloudflareCookieJar } from "./cookie-jar.ts";
import { type Connect, defaultConnect } from "./http1.ts";
import type { NotificationName, NotificationParams } from "../protocol/methods.ts";
import type { HttpRequestParams, HttpResponse } from "../protocol/messages/http.ts";

/** Largest buffered response body; bigger bodies must use `streamResponse`. */
export const MAX_BUFFERED_RESPONSE_BYTES = 64 * 1024 * 1024;
/** Largest body slice in one `http/request/bodyDelta`. */
export const MAX_BODY_DELTA_BYTES = 1024 * 1024;
/** Concurrently active streamed responses per connection. */
export const MAX_ACTIVE_STREAMS = 64;

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** A header value may not carry control characters other than tab, nor DEL (the reference's `HeaderValue::from_str`). */
const BAD_HEADER_VALUE = /[\x00-\x08\x0a-\x1f\x7f]/;

/** Any method token is sent as given (case kept), as the reference sends it. */
function checkMethod(method: string): void {
  if (!TOKEN.test(method)) throw invalidParams("http/request method is invalid: invalid HTTP method");
}

/** What a request needs from its connection. */
export interface HttpConnection {
  notify<N extends NotificationName>(method: N, params: NotificationParams<N>): void;
  /** `undefined` when the client can take more now, else resolves when it can. */
  ready(): Promise<void> | undefined;
  /** Runs `fn` once the request's response has been sent. */
  afterReply(fn: () => void): void;
}

/** The executor's one jar, shared by every connection as the reference's process-wide jar is. */
const PROCESS_COOKIE_JAR = new CloudflareCookieJar();

/**
 * How requests reach the network. Production uses the defaults; tests (and
 * embedders) may pass `connect` to decide where a host:port really goes, e.g.
 * `chatgpt.com` to a local TLS server, and their own `jar`.
 */
export type HttpClientOptions = { connect?: Connect; jar?: CloudflareCookieJar };

export class HttpStreams {
  private readonly active = new Map<string, AbortController>();
  private readonly deps: ClientDeps;

  constructor(
    private readonly env: Record<string, string | undefined>,
    options: HttpClientOptions = {},
  ) {
    this.deps = { connect: options.connect ?? defaultConnect, jar: options.jar ?? PROCESS_COOKIE_JAR, env };
  }

  async request(p: HttpRequestParams, conn: HttpConnection): Promise<HttpResponse> {
    const { url, authorization } = splitCredentials(parseUrl(p.url));
    checkMethod(p.method);
    const headers = this.headers(p.headers ?? []);
    const body = p.bodyBase64 == null ? undefined : decodeBody(p.bodyBase64);
    if (p.streamResponse) {
      if (this.active.has(p.requestId)) {
        throw invalidParams(`http/request streamResponse requestId \`${p.requestId}\` is already active`);
      }
      if (this.active.size >= MAX_ACTIVE_STREAMS) {
        throw invalidParams(`http/request allows at most ${MAX_ACTIVE_STREAMS} active streamed responses per connection`);
      }
    }
    const abort = new AbortController();
    if (p.streamResponse) this.active.set(p.requestId, abort);
    const signals = p.timeoutMs == null ? abort.signal : AbortSignal.any([abort.signal, AbortSignal.timeout(p.timeoutMs)]);
    let response: ClientResponse;
    try {
      if (p.timeoutMs === 0) throw new Error("route-aware request timed out");
      const followRedirects = p.redirectPolicy !== "stop";
      response = await send({ method: p.method, url, authorization, headers, body, followRedirects, signal: signals }, this.deps);
    } catch (e) {
      this.active.delete(p.requestId);
      throw internalError(`http/request failed: ${failureDetail(e, url)}`);
    }
    const head = { status: response.status, headers: responseHeaders(response) };
    if (!p.streamResponse) return { ...head, bodyBase64: await bufferedBody(response) };
    // Reading starts now, not after the reply: what arrives before a failure must not be lost (see BodyPrefetch).
    const bodyReader = new BodyPrefetch(response.body, abort.signal);
    conn.afterReply(() => void this.pump(p.requestId, bodyReader, abort, conn));
    return { ...head, bodyBase64: "" };
  }

  private headers(list: NonNullable<HttpRequestParams["headers"]>): [string, string][] {
    return list.map((h) => {
      if (!TOKEN.test(h.name)) throw invalidParams("http/request header name is invalid: invalid HTTP header name");
      let value = h.value;
      if (h.valueEnvVar != null) {
        const extra = this.env[h.valueEnvVar];
        if (extra === undefined) {
          throw invalidParams(`http/request header ${h.name} requires executor environment variable ${h.valueEnvVar}`);
        }
        value += extra;
      }
      if (BAD_HEADER_VALUE.test(value)) {
        throw invalidParams(`http/request header value is invalid for ${h.name}: failed to parse header value`);
      }
      return [h.name, value];
    });
  }

  /** Sends the body as ordered deltas numbered from 1, then one `done` frame (with `error` on failure). */
  private async pump(requestId: string, body: BodyPrefetch, abort: AbortController, conn: HttpConnection): Promise<void> {
    let seq = 1;
    let error: string | null = null;
    try {
      for (;;) {
        const wait = conn.ready();
        if (wait) await wait;
        const value = await body.next();
        if (value === null || abort.signal.aborted) break;
        for (let off = 0; off < value.byteLength; off += MAX_BODY_DELTA_BYTES) {
          const delta = value.subarray(off, off + MAX_BODY_DELTA_BYTES);
          conn.notify("http/request/bodyDelta", { requestId, seq: seq++, deltaBase64: encodeBase64(delta), done: false, error: null });
        }
      }
    } catch {
      error = "error decoding response body";
    } finally {
      this.active.delete(requestId);
    }
    if (abort.signal.aborted) return;
    conn.notify("http/request/bodyDelta", { requestId, seq, deltaBase64: "", done: true, error });
  }

  /** Connection shutdown: cancel every stream. */
  closeAll(): void {
    for (const abort of this.active.values()) abort.abort();
    this.active.clear();
  }
}

/** The reference's (reqwest's) wording for why a request failed. */
function failureDetail(e: unknown, url: URL): string {
  if (e instanceof ClientError || (e instanceof Error && e.message === "route-aware request timed out")) return e.message;
  return `error sending request for url (${url.href})`;
}

function parseUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalidParams(`http/request url is invalid: ${describeUrlFailure(text)}`);
  }
  const scheme = url.protocol.slice(0, -1);
  if (scheme !== "http" && scheme !== "https") throw invalidParams(`http/request only supports http and https URLs, got ${scheme}`);
  return url;
}

function decodeBody(text: string): Buffer {
  try {
    return decodeBase64(text);
  } catch (e) {
    throw invalidParams(e instanceof Base64Error ? e.message : String(e));
  }
}

/** A header value the reference reports: visible ASCII, spaces and tabs (`HeaderValue::to_str`); others are left out. */
const REPORTABLE_VALUE = /^[\t\x20-\x7e]*$/;

/** Lower-case names, grouped by name in first-seen order with every repeat (see HeaderMap). */
function responseHeaders(response: ClientResponse): { name: string; value: string }[] {
  return response.headers.pairs().filter(([, value]) => REPORTABLE_VALUE.test(value)).map(([name, value]) => ({ name, value }));
}

async function bufferedBody(response: ClientResponse): Promise<string> {
  const declared = Number(response.headers.get("content-length") ?? 0);
  if (declared > MAX_BUFFERED_RESPONSE_BYTES) {
    await response.body?.cancel();
    throw internalError(`http/request failed: response body exceeds ${MAX_BUFFERED_RESPONSE_BYTES} bytes; use streamResponse`);
  }
  const parts: Uint8Array[] = [];
  let total = 0;
  try {
    for await (const part of response.body) {
      total += part.byteLength;
      if (total > MAX_BUFFERED_RESPONSE_BYTES) {
        await response.body?.cancel();
        throw internalError(`http/request failed: response body exceeds ${MAX_BUFFERED_RESPONSE_BYTES} bytes; use streamResponse`);
      }
      parts.push(part);
    }
  } catch (e) {
    if (e instanceof Error && e.message.includes("exceeds")) throw e;
    throw internalError("failed to read http/request response body: error decoding response body");
  }
  return encodeBase64(Buffer.concat(parts));
}
