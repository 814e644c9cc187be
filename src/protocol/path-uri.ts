/**
 * `file:` URIs, the only path form on the wire. Parsing follows the WHATWG URL
 * rules the reference uses (lexical `.`/`..`, percent-decoding, `localhost`
 * host) and rejects what it rejects, with its texts and codes.
 */
import { invalidParams, invalidRequest } from "./errors.ts";
import { describeUrlFailure } from "./url-errors.ts";

const PLATFORM = process.platform === "darwin" ? "macos" : process.platform === "win32" ? "windows" : "linux";

/** Parses a wire path URI to an absolute native path, or throws an `RpcError`. */
export function parsePathUri(uri: string): string {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw invalidParams(`invalid URI: ${describeUrlFailure(uri)}`);
  }
  const scheme = url.protocol.slice(0, -1).toLowerCase();
  if (scheme !== "file") throw invalidParams(`unsupported path URI scheme \`${scheme}\``);
  if (uri.includes("?")) throw invalidParams("query parameters are not allowed in path URIs");
  if (uri.includes("#")) throw invalidParams("fragments are not allowed in path URIs");
  // WHATWG turns a `c|` drive into `c:`; on Linux it is an ordinary name, so undo that.
  const pipeDrive = /^file:\/\/[^/]*\/[A-Za-z]\|/i.test(uri);
  const pathname = pipeDrive ? url.pathname.replace(/^\/([A-Za-z]):/, "/$1|") : url.pathname;
  if (url.hostname !== "" || (!pipeDrive && /^\/[A-Za-z]:/.test(pathname))) {
    throw invalidRequest(`'${url.href}' is invalid on '${PLATFORM}'`);
  }
  const decoded = decodePercent(pathname);
  if (decoded.includes("\0")) throw invalidParams(`'${url.href}' is invalid on '${PLATFORM}'`);
  // `%2F` decodes to a separator; collapse what that and trailing slashes leave behind.
  const collapsed = decoded.replace(/\/{2,}/g, "/");
  return collapsed.length > 1 && collapsed.endsWith("/") ? collapsed.slice(0, -1) : collapsed || "/";
}

function decodePercent(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    // Invalid UTF-8 after decoding: keep what decodes, replace the rest.
    const bytes = text.replace(/%([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
    return Buffer.from(bytes, "latin1").toString("utf8");
  }
}

/** Bytes kept verbatim in a path segment (the url crate's path-segment set inverted). */
const KEEP = /[A-Za-z0-9\-._~!$&'()*+,;=:@/]/;

/** Formats an absolute native path as the canonical `file:///…` URI the reference emits. */
export function toPathUri(path: string): string {
  let out = "file://";
  for (const byte of Buffer.from(path, "utf8")) {
    const ch = String.fromCharCode(byte);
    out += byte < 0x80 && KEEP.test(ch) ? ch : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}
