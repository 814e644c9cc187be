/**
 * `file:` URIs, the only path form on the wire. Parsing follows the WHATWG URL
 * rules the reference uses (lexical `.`/`..`, percent-decoding, `localhost`
 * host) and rejects what it rejects, with its texts and codes.
 */
import { isUtf8 } from "node:buffer";
import { join } from "node:path";
import { invalidParams, invalidRequest } from "./errors.ts";
import { describeUrlFailure } from "./url-errors.ts";

const PLATFORM = process.platform === "darwin" ? "macos" : process.platform === "win32" ? "windows" : "linux";

/**
 * A native path: a string when its bytes are UTF-8 (the common case), else
 * the raw bytes. A Linux name is any bytes but `/` and NUL, and `%FF` in a URI
 * names the byte 0xff, as the reference reads it: decoding it to U+FFFD would
 * act on a different file. Node's fs takes either form.
 */
export type NativePath = string | Buffer;

/** Parses a wire path URI to an absolute native path, or throws an `RpcError`. */
export function parsePathUri(uri: string): NativePath {
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
  if (decoded.includes(0)) throw invalidParams(`'${url.href}' is invalid on '${PLATFORM}'`);
  // `%2F` decodes to a separator; collapse what that and trailing slashes leave behind.
  const collapsed = decoded.toString("latin1").replace(/\/{2,}/g, "/");
  return fromByteText(collapsed.length > 1 && collapsed.endsWith("/") ? collapsed.slice(0, -1) : collapsed || "/");
}

/** The bytes a URI path names: `%XX` is one byte, anything else its UTF-8 bytes. */
function decodePercent(text: string): Buffer {
  const bytes = Buffer.from(text, "utf8").toString("latin1");
  return Buffer.from(bytes.replace(/%([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))), "latin1");
}

/** Path bytes as a `NativePath`: a string when they are UTF-8, else the bytes themselves. */
export function fromBytes(bytes: Buffer): NativePath {
  return isUtf8(bytes) ? bytes.toString("utf8") : bytes;
}

/**
 * A path's bytes as a string of one char per byte (latin1), so that `/`-based
 * string operations (split, join, dirname) are byte-exact for a path that is
 * not UTF-8; `fromByteText` turns the result back into a `NativePath`.
 */
export const byteText = (path: NativePath): string => (typeof path === "string" ? Buffer.from(path) : path).toString("latin1");
export const fromByteText = (text: string): NativePath => fromBytes(Buffer.from(text, "latin1"));

/** `dir/name` for any bytes; the common all-UTF-8 case stays a plain string join. */
export function joinPath(dir: NativePath, name: NativePath): NativePath {
  if (typeof dir === "string" && typeof name === "string") return join(dir, name);
  return fromByteText(join(byteText(dir), byteText(name)));
}

/** A native path for messages: invalid UTF-8 shown as U+FFFD, as the reference displays it. */
export function displayPath(path: NativePath): string {
  return typeof path === "string" ? path : path.toString("utf8");
}

/** Bytes kept verbatim in a path segment (the url crate's path-segment set inverted). */
const KEEP = /[A-Za-z0-9\-._~!$&'()*+,;=:@/]/;

/** Formats an absolute native path as the canonical `file:///…` URI the reference emits. */
export function toPathUri(path: NativePath): string {
  let out = "file://";
  for (const byte of typeof path === "string" ? Buffer.from(path, "utf8") : path) {
    const ch = String.fromCharCode(byte);
    out += byte < 0x80 && KEEP.test(ch) ? ch : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}
