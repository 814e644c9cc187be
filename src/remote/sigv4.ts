/**
 * AWS Signature Version 4 for header-signed requests (`--aws-sigv4`), over
 * node:crypto's SHA-256 and HMAC. Hand-written because the whole algorithm is
 * ~60 lines of canonical strings; AWS's own signer (@smithy/signature-v4)
 * brings a tree of smithy packages for the same two primitives. Checked
 * against AWS's published test suite and against requests the reference
 * signed (test/remote/sigv4.test.ts).
 */
import { createHash, createHmac } from "node:crypto";

export type AwsCredentials = {
  accessKeyId: string;
  /** Secret: never logged. */
  secretAccessKey: string;
  sessionToken?: string;
};

export type SigV4Request = {
  method: string;
  url: URL;
  /** Headers to sign besides `host`, `x-amz-date` and `x-amz-security-token` (names any case). */
  headers: Record<string, string>;
  body: string | Uint8Array;
};

export type SigV4Scope = { credentials: AwsCredentials; region: string; service: string };

/**
 * The headers to add to `request`: `x-amz-date`, `x-amz-security-token` when
 * the credentials carry one, and `authorization`. `host` is signed as
 * `url.host` (port included when not the scheme's default), which is what
 * the HTTP client sends.
 *
 * @example signV4({ method: "GET", url, headers: {}, body: "" }, scope, new Date())
 */
export function signV4(request: SigV4Request, scope: SigV4Scope, now: Date): Record<string, string> {
  const amzDate = now.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
  const day = amzDate.slice(0, 8);
  const added: Record<string, string> = { "x-amz-date": amzDate };
  if (scope.credentials.sessionToken) added["x-amz-security-token"] = scope.credentials.sessionToken;
  const signed = new Map<string, string>();
  for (const [name, value] of Object.entries({ ...request.headers, host: request.url.host, ...added })) {
    // Canonical values: trimmed, inner runs of spaces collapsed.
    signed.set(name.toLowerCase(), value.trim().replace(/ +/g, " "));
  }
  const names = [...signed.keys()].sort();
  const canonicalRequest = [
    request.method,
    canonicalPath(request.url.pathname),
    canonicalQuery(request.url.searchParams),
    names.map((n) => `${n}:${signed.get(n)}\n`).join(""),
    names.join(";"),
    sha256Hex(request.body),
  ].join("\n");
  const credentialScope = `${day}/${scope.region}/${scope.service}/aws4_request`;
  const stringToSign = ["AWS4-HMAC-SHA256", amzDate, credentialScope, sha256Hex(canonicalRequest)].join("\n");
  let key: Buffer = hmac(`AWS4${scope.credentials.secretAccessKey}`, day);
  for (const part of [scope.region, scope.service, "aws4_request"]) key = hmac(key, part);
  const signature = hmac(key, stringToSign).toString("hex");
  added.authorization = `AWS4-HMAC-SHA256 Credential=${scope.credentials.accessKeyId}/${credentialScope}, SignedHeaders=${names.join(";")}, Signature=${signature}`;
  return added;
}

/** RFC 3986 percent-encoding of everything but the unreserved characters, as SigV4 requires. */
function uriEncode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * Every service but S3 signs the path encoded twice: the URL's path is already
 * encoded once (`bad%20id`), and each segment is encoded again (`bad%2520id`).
 */
function canonicalPath(pathname: string): string {
  return pathname === "" ? "/" : pathname.split("/").map(uriEncode).join("/");
}

function canonicalQuery(params: URLSearchParams): string {
  const pairs = [...params].map(([k, v]) => [uriEncode(k), uriEncode(v)] as const);
  pairs.sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join("&");
}

function sha256Hex(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac("sha256", key).update(data).digest();
}
