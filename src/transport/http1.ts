/**
 * The little HTTP/1.1 the WebSocket listener needs: the head of one request,
 * and plain replies. Anything not an upgrade is answered and the connection
 * closed (the only other route is `/readyz`).
 */

/** Longest request head accepted; longer → 431 (a browser-sized head is ~2 KiB). */
export const MAX_REQUEST_HEAD_BYTES = 16 * 1024;

export type RequestHead = { method: string; path: string; headers: Headers };

export type HttpReply = { status: number; headers?: Record<string, string>; body?: string };

const REASONS: Record<number, string> = {
  101: "Switching Protocols",
  200: "OK",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  431: "Request Header Fields Too Large",
  503: "Service Unavailable",
};

const HEAD_END = Buffer.from("\r\n\r\n");

/**
 * Finds a complete head in `bytes`: its parse and the offset after it, null
 * while incomplete, or a reply to send when the head is malformed or too long.
 */
export function parseRequestHead(bytes: Buffer): { head: RequestHead; end: number } | null | HttpReply {
  const at = bytes.indexOf(HEAD_END);
  if (at < 0) return bytes.byteLength > MAX_REQUEST_HEAD_BYTES ? { status: 431 } : null;
  if (at > MAX_REQUEST_HEAD_BYTES) return { status: 431 };
  const lines = bytes.toString("latin1", 0, at).split("\r\n");
  const request = /^([A-Z]+) (\S+) HTTP\/1\.[01]$/.exec(lines[0]!);
  if (!request) return { status: 400 };
  const headers = new Headers();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    if (colon <= 0) return { status: 400 };
    try {
      headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
    } catch {
      return { status: 400 };
    }
  }
  const target = request[2]!;
  const query = target.indexOf("?");
  return { head: { method: request[1]!, path: query < 0 ? target : target.slice(0, query), headers }, end: at + HEAD_END.byteLength };
}

/** A complete response; `close` adds `connection: close`. */
export function formatReply(reply: HttpReply, close: boolean): string {
  const body = reply.body ?? "";
  let text = `HTTP/1.1 ${reply.status} ${REASONS[reply.status] ?? "Unknown"}\r\n`;
  for (const [name, value] of Object.entries(reply.headers ?? {})) text += `${name}: ${value}\r\n`;
  if (reply.status !== 101) text += `content-length: ${Buffer.byteLength(body)}\r\n`;
  if (close) text += "connection: close\r\n";
  return `${text}\r\n${body}`;
}

/** `Sec-WebSocket-Accept` for a key (RFC 6455 §4.2.2). */
export function acceptKey(key: string): string {
  return new Bun.CryptoHasher("sha1").update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest("base64");
}
