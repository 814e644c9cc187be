/**
 * Copying one HTTP/1.1 message body from a socket reader to a socket as it
 * came (chunked bodies keep their chunk lines), so the proxy knows where a
 * message ends without decoding it, and waits for the receiver (`drain`)
 * before reading more.
 */
import { type ByteReader, type ByteWriter, readLine, readSized } from "../http/socket-reader.ts";
import { ByteSocket } from "./byte-socket.ts";

export type Framing = { kind: "none" } | { kind: "length"; bytes: number } | { kind: "chunked" } | { kind: "close" };

/** A raw header block's lines → the named header's values (case-insensitive). */
export function headerValues(lines: string[], name: string): string[] {
  const lower = name.toLowerCase();
  return lines.filter((l) => l.slice(0, l.indexOf(":")).trim().toLowerCase() === lower).map((l) => l.slice(l.indexOf(":") + 1).trim());
}

/**
 * A request's body framing, or null when the request is ambiguous and the
 * proxy answers 400 before any policy check (as the reference's does,
 * probed on 0.171.0): a Transfer-Encoding whose last coding is not chunked,
 * or Content-Length values that are not one valid number. Forwarding such a
 * request would let the origin find another request in it than the one the
 * policy checked (request smuggling past `mode: "limited"`).
 */
export function requestFraming(lines: string[]): Framing | null {
  const codings = headerValues(lines, "transfer-encoding");
  if (codings.length > 0) return codings.join(",").toLowerCase().split(",").at(-1)!.trim() === "chunked" ? { kind: "chunked" } : null;
  const lengths = new Set(headerValues(lines, "content-length").flatMap((v) => v.split(",").map((x) => x.trim())));
  if (lengths.size > 1) return null;
  const [length] = lengths;
  if (length === undefined) return { kind: "none" };
  const bytes = /^\d{1,15}$/.test(length) ? Number(length) : Number.NaN;
  if (!Number.isSafeInteger(bytes)) return null;
  return bytes === 0 ? { kind: "none" } : { kind: "length", bytes };
}

/**
 * The header lines a request is forwarded with: a chunked body's
 * Content-Length dropped (RFC 9112 §6.3: Transfer-Encoding wins, and an
 * intermediary removes the other before forwarding, so no origin can frame
 * the body by it).
 */
export function forwardableLines(lines: string[], framing: Framing): string[] {
  return framing.kind === "chunked" ? lines.filter((l) => l.slice(0, l.indexOf(":")).trim().toLowerCase() !== "content-length") : lines;
}

/** How a response with these header lines frames its body (without a length: until the origin closes). */
export function responseFraming(lines: string[]): Framing {
  const codings = headerValues(lines, "transfer-encoding").join(",").toLowerCase().split(",");
  if (codings.at(-1)?.trim() === "chunked") return { kind: "chunked" };
  const length = headerValues(lines, "content-length")[0];
  if (length === undefined) return { kind: "close" };
  const bytes = Number(length);
  if (!Number.isSafeInteger(bytes) || bytes < 0) throw new Error("invalid content-length");
  return bytes === 0 ? { kind: "none" } : { kind: "length", bytes };
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * Whether a request head could be framed differently by the origin than by
 * the proxy (request smuggling, RFC 9112 §6.3, §11.2): a folded line, a
 * header name that is no token (`Content-Length :`), more than one
 * Content-Length or one that is not digits, a Transfer-Encoding beside a
 * Content-Length or other than `chunked` alone. Where the proxy restores
 * credentials it refuses such a head, since a request the origin reads as
 * the body of another would carry a real value the proxy put in past its
 * host and path checks.
 */
export function ambiguousFraming(lines: string[]): boolean {
  if (lines.some((l) => l.indexOf(":") < 1 || !TOKEN.test(l.slice(0, l.indexOf(":"))))) return true;
  const lengths = headerValues(lines, "content-length");
  const codings = headerValues(lines, "transfer-encoding");
  if (lengths.length > 1 || (lengths.length === 1 && !/^\d+$/.test(lengths[0]!))) return true;
  return codings.length > 0 && (lengths.length > 0 || codings.length > 1 || codings[0]!.toLowerCase() !== "chunked");
}

/** Copies the body; `null` out discards it (a refused request's body). */
export async function copyBody(reader: ByteReader, out: ByteWriter | null, framing: Framing): Promise<void> {
  const emit = (b: Uint8Array | string) => (out ? out.write(b) : Promise.resolve());
  if (framing.kind === "none") return;
  if (framing.kind === "length") return copySized(reader, out, framing.bytes);
  if (framing.kind === "close") {
    for (let c = await reader.read(); c; c = await reader.read()) await emit(c);
    return;
  }
  for (;;) {
    const sizeLine = await readLine(reader);
    await emit(`${sizeLine}\r\n`);
    // Hex digits only: parseInt would read `0x5` as 5 and `1 0` as 1, where the receiver may read otherwise.
    const digits = sizeLine.split(";")[0]!.trim();
    if (!/^[0-9A-Fa-f]{1,12}$/.test(digits)) throw new Error("invalid chunk size");
    const size = Number.parseInt(digits, 16);
    if (size === 0) break;
    await copySized(reader, out, size + 2); // the data and its CRLF
  }
  for (let trailer = await readLine(reader); ; trailer = await readLine(reader)) {
    await emit(`${trailer}\r\n`);
    if (trailer === "") return;
  }
}

/** Exactly `bytes` bytes from `reader` to `out` (discarded without one): from the data callbacks when both are the proxy's Bun sockets. */
async function copySized(reader: ByteReader, out: ByteWriter | null, bytes: number): Promise<void> {
  if (reader instanceof ByteSocket && out instanceof ByteSocket) return reader.pipeBytes(out, bytes);
  for await (const part of readSized(reader, bytes)) if (out) await out.write(part);
}

/** A message head (start line and header lines), or null at a clean end of stream before it. */
export async function readHead(reader: ByteReader, maxBytes: number): Promise<string[] | null> {
  let buf = Buffer.alloc(0);
  for (;;) {
    const end = buf.indexOf("\r\n\r\n");
    if (end >= 0) {
      reader.unshift(buf.subarray(end + 4));
      return buf.subarray(0, end).toString("latin1").split("\r\n");
    }
    if (buf.byteLength > maxBytes) throw new Error("head too large");
    const c = await reader.read();
    if (!c) {
      if (buf.byteLength === 0) return null;
      throw new Error("ended inside a head");
    }
    buf = Buffer.concat([buf, c]);
  }
}
