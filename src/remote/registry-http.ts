/**
 * One registry request (remote.md §2.1): `POST` JSON with `content-type:
 * application/json` and an accept-anything header, the auth headers, no redirects, a
 * time budget. Replies may be gzip or zstd encoded (asked for with
 * `accept-encoding: zstd,gzip`, byte for byte what 0.171.0 sends) and are decoded here
 * with a size cap. Non-2xx answers become RegistryError with the reference's
 * texts.
 */
import { gunzipSync, zstdDecompressSync } from "node:zlib";
import type { z } from "zod";
import { REGISTRY_REQUEST_TIMEOUT_MS, REGISTRY_RESPONSE_MAX_BYTES } from "./limits.ts";
import { type RegistryAuth, authHeaders } from "./registry-auth.ts";
import { RegistryError } from "./registry-error.ts";
import { RegistryErrorBody } from "./schemas.ts";

export type RegistryTarget = {
  /** `--remote`, as given: trimmed and stripped of trailing `/` here. */
  baseUrl: string;
  environmentId: string;
  auth: RegistryAuth;
  /** Injected for tests; default `() => new Date()`. */
  now?: () => Date;
};

export type RegistryReply = { status: number; text: string };

/** `BASE/cloud/environment/{id}/{endpoint}` for `target`. */
export function endpointUrl(target: RegistryTarget, endpoint: string): URL {
  return registryEndpointUrl(target.baseUrl, target.environmentId, endpoint);
}

/**
 * `BASE/cloud/environment/{id}/{endpoint}`: base trimmed and stripped of
 * trailing `/`, id trimmed and percent-encoded as one path segment (the
 * reference pastes it in, so a `/` or `?` in it would change the path).
 */
export function registryEndpointUrl(baseUrl: string, environmentId: string, endpoint: string): URL {
  const id = environmentId.trim();
  if (id === "") throw new RegistryError("config", "environment registry configuration error: environment id is required for remote exec-server registration");
  const base = baseUrl.trim().replace(/\/+$/, "");
  try {
    return new URL(`${base}/cloud/environment/${encodeURIComponent(id)}/${endpoint}`);
  } catch {
    throw new RegistryError("config", "invalid remote exec-server registration URL: relative URL without a base");
  }
}

/** Sends `body` (already validated by the caller's schema) and returns the decoded reply of any status. */
export async function postJson(
  target: RegistryTarget,
  endpoint: string,
  body: unknown,
  extraHeaders: Record<string, string> = {},
  signal?: AbortSignal,
): Promise<RegistryReply> {
  const url = endpointUrl(target, endpoint);
  const text = JSON.stringify(body);
  const signed = { "content-type": "application/json" };
  const headers = {
    ...signed,
    ...authHeaders(target.auth, "POST", url, signed, text, (target.now ?? (() => new Date()))()),
    accept: "*/*",
    "accept-encoding": "zstd,gzip",
    ...extraHeaders,
  };
  const timeout = AbortSignal.timeout(REGISTRY_REQUEST_TIMEOUT_MS);
  let response: Response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers,
      body: text,
      redirect: "manual",
      decompress: false,
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    } as RequestInit);
    const raw = await readCapped(response);
    return { status: response.status, text: decode(raw, response.headers.get("content-encoding")) };
  } catch (e) {
    if (e instanceof RegistryError) throw e;
    if (signal?.aborted) throw e;
    throw new RegistryError("transport", `environment registry request failed: error sending request for url (${url.href})`);
  }
}

/** Parses a 2xx reply with `schema`, or turns a non-2xx into the reference's error. */
export function expectOk<S extends z.ZodType>(reply: RegistryReply, schema: S): z.infer<S> {
  if (reply.status < 200 || reply.status > 299) throw httpError(reply);
  let json: unknown;
  try {
    json = JSON.parse(reply.text);
  } catch (e) {
    throw new RegistryError("protocol", `failed to serialize or deserialize exec-server JSON: ${(e as Error).message}`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new RegistryError("protocol", `failed to serialize or deserialize exec-server JSON: ${issue.path.join(".") || "body"}: ${issue.message}`);
  }
  return parsed.data;
}

/** `(503 Service Unavailable, other): busy`-style errors; 401/403 are "auth", the rest "http". */
export function httpError(reply: RegistryReply): RegistryError {
  let code: string | undefined;
  let message: string | undefined;
  try {
    const parsed = RegistryErrorBody.safeParse(JSON.parse(reply.text));
    code = parsed.data?.error?.code ?? undefined;
    message = parsed.data?.error?.message ?? undefined;
  } catch {
    // Not JSON: the text itself is the diagnostic.
  }
  const detail = message ?? (reply.text.trim() || "empty or malformed error body");
  const status = `${reply.status} ${STATUS_TEXT[reply.status] ?? ""}`.trim();
  // The reference names the error code in the generic text only.
  if (reply.status === 401 || reply.status === 403) {
    return new RegistryError("auth", `environment registry authentication error: environment registry authentication failed (${status}): ${detail}`, reply.status, code);
  }
  return new RegistryError("http", `environment registry request failed (${status}${code ? `, ${code}` : ""}): ${detail}`, reply.status, code);
}

async function readCapped(response: Response): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body ?? []) {
    size += chunk.length;
    if (size > REGISTRY_RESPONSE_MAX_BYTES) throw tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function decode(raw: Uint8Array, encoding: string | null): string {
  const coding = (encoding ?? "identity").trim().toLowerCase();
  const options = { maxOutputLength: REGISTRY_RESPONSE_MAX_BYTES };
  let bytes: Uint8Array;
  try {
    if (coding === "identity" || coding === "") bytes = raw;
    else if (coding === "gzip" || coding === "x-gzip") bytes = gunzipSync(raw, options);
    else if (coding === "zstd") bytes = zstdDecompressSync(raw, options);
    else throw new RegistryError("protocol", `environment registry reply has unsupported content-encoding \`${coding}\``);
  } catch (e) {
    if (e instanceof RegistryError) throw e;
    if ((e as { code?: string }).code === "ERR_BUFFER_TOO_LARGE") throw tooLarge();
    throw new RegistryError("protocol", `environment registry reply is not valid ${coding}: ${(e as Error).message}`);
  }
  return new TextDecoder().decode(bytes);
}

function tooLarge(): RegistryError {
  return new RegistryError("protocol", `environment registry reply exceeds ${REGISTRY_RESPONSE_MAX_BYTES} bytes`);
}

/** Canonical reason phrases, as the reference prints them (not the server's). */
const STATUS_TEXT: Record<number, string> = {
  300: "Multiple Choices", 301: "Moved Permanently", 302: "Found", 303: "See Other", 307: "Temporary Redirect", 308: "Permanent Redirect",
  400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 408: "Request Timeout",
  409: "Conflict", 410: "Gone", 413: "Payload Too Large", 415: "Unsupported Media Type", 422: "Unprocessable Entity", 429: "Too Many Requests",
  500: "Internal Server Error", 501: "Not Implemented", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout",
};
