/**
 * One HTTP/1.1 exchange on its own connection: the request head is written
 * exactly as given (execbox decides every byte, see client.ts), the response
 * head is parsed into a HeaderMap and the body is framed by content-length,
 * chunked encoding or the end of the connection, as hyper frames it.
 */
import net from "node:net";
import type { Duplex } from "node:stream";
import tls from "node:tls";
import { HeaderMap } from "./header-map.ts";
import { SocketReader, readLine, readSized } from "./socket-reader.ts";

export type Target = { host: string; port: number; tls: boolean };
/** Opens a connected (for TLS: verified) socket to a target. */
export type Connect = (target: Target, signal: AbortSignal) => Promise<Duplex>;

export type RawResponse = { status: number; headers: HeaderMap; bodiless: boolean; body: AsyncGenerator<Uint8Array>; close: () => void };

/** Longest response head accepted; hyper's default read buffer ceiling is about this size. */
export const MAX_HEAD_BYTES = 400 * 1024;

let roots: string[] | undefined;
/** The system trust store plus the runtime's bundled roots (and NODE_EXTRA_CA_CERTS), loaded once. */
function trustRoots(): string[] {
  roots ??= [...tls.getCACertificates("system"), ...tls.getCACertificates("default")];
  return roots;
}

/** Plain TCP, or TLS over it, to the target. */
export const defaultConnect: Connect = async (target, signal) => {
  const tcp = await openTcp(target.host, target.port, signal);
  return target.tls ? startTls(tcp, target.host) : tcp;
};

function openTcp(host: string, port: number, signal: AbortSignal): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: host.replace(/^\[|\]$/g, ""), port });
    socket.once("error", reject);
    signal.addEventListener("abort", () => socket.destroy(new Error("aborted")), { once: true });
    socket.once("connect", () => {
      socket.off("error", reject);
      resolve(socket);
    });
  });
}

/** TLS over a connected socket, verified for `host` against the trust roots (SNI for names, not for IP literals). */
export function startTls(socket: Duplex, host: string): Promise<Duplex> {
  const name = host.replace(/^\[|\]$/g, "");
  return new Promise((resolve, reject) => {
    const secure = tls.connect({ socket, ca: trustRoots(), host: name, servername: net.isIP(name) ? undefined : name });
    secure.once("error", reject);
    secure.once("secureConnect", () => {
      secure.off("error", reject);
      resolve(secure);
    });
  });
}

/** Writes the request and reads the response head; the body is read on demand. */
export async function exchange(socket: Duplex, head: string, body: Uint8Array | undefined, method: string): Promise<RawResponse> {
  // Header values go out as their UTF-8 bytes, as the reference sends them.
  socket.write(Buffer.from(head, "utf8"));
  if (body && body.byteLength > 0) socket.write(body);
  const reader = new SocketReader(socket);
  for (;;) {
    const { status, headers } = await readHead(reader);
    // 1xx answers are interim; the real response follows on the same connection.
    if (status >= 100 && status < 200 && status !== 101) continue;
    const close = () => socket.destroy();
    const bodiless = method === "HEAD" || status === 204 || status === 304;
    return { status, headers, bodiless, body: bodyOf(reader, bodiless, headers, close), close };
  }
}

async function readHead(reader: SocketReader): Promise<{ status: number; headers: HeaderMap }> {
  let buf = Buffer.alloc(0);
  for (;;) {
    const end = buf.indexOf("\r\n\r\n");
    if (end >= 0) {
      reader.unshift(buf.subarray(end + 4));
      return parseHead(buf.subarray(0, end).toString("latin1"));
    }
    if (buf.byteLength > MAX_HEAD_BYTES) throw new Error("response head too large");
    const chunk = await reader.read();
    if (!chunk) throw new Error("connection closed before the response head");
    buf = Buffer.concat([buf, chunk]);
  }
}

function parseHead(text: string): { status: number; headers: HeaderMap } {
  const [statusLine = "", ...lines] = text.split("\r\n");
  const m = /^HTTP\/1\.[01] (\d{3})(?: |$)/.exec(statusLine);
  if (!m) throw new Error("invalid status line");
  const headers = new HeaderMap();
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon <= 0) throw new Error("invalid header line");
    headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  return { status: Number(m[1]), headers };
}

/**
 * The body's bytes, framed as hyper frames them; a short body throws after
 * what did arrive. The framing is read from the head now: the caller may
 * change the headers before reading (decoding drops content-length).
 */
function bodyOf(reader: SocketReader, bodiless: boolean, headers: HeaderMap, close: () => void): AsyncGenerator<Uint8Array> {
  const codings = headers.getAll("transfer-encoding").join(",").toLowerCase().split(",");
  const isChunked = codings.at(-1)?.trim() === "chunked";
  const length = headers.has("content-length") ? Number(headers.get("content-length")) : undefined;
  return (async function* () {
    try {
      if (bodiless) return;
      if (isChunked) yield* chunked(reader);
      else if (length !== undefined) yield* sized(reader, length);
      else for (let c = await reader.read(); c; c = await reader.read()) yield c;
    } finally {
      close();
    }
  })();
}

async function* sized(reader: SocketReader, length: number) {
  if (!Number.isSafeInteger(length) || length < 0) throw new Error("invalid content-length");
  yield* readSized(reader, length);
}

async function* chunked(reader: SocketReader) {
  for (;;) {
    const size = Number.parseInt((await readLine(reader)).split(";")[0]!.trim(), 16);
    if (!Number.isSafeInteger(size) || size < 0) throw new Error("invalid chunk size");
    if (size === 0) break;
    yield* sized(reader, size);
    if ((await readLine(reader)) !== "") throw new Error("invalid chunk end");
  }
  while ((await readLine(reader)) !== "");
}
