/**
 * The managed SOCKS5 listener (RFC 1928): no authentication, CONNECT only,
 * each destination checked like the HTTP proxy's (`socks5_tcp`). A refused
 * destination gets reply 0x02 (not allowed by ruleset); other commands 0x07.
 */
import type { PolicyGate } from "./gate.ts";
import { type ClientConnection, type Handshake, type ProxyListener, startProxyListener } from "./proxy-listener.ts";

const VERSION = 5;
const NO_AUTH = 0;
const NO_ACCEPTABLE_METHOD = 0xff;
const CMD_CONNECT = 1;
const REPLY = { succeeded: 0, notAllowed: 2, hostUnreachable: 4, commandNotSupported: 7, addressNotSupported: 8 } as const;

export function startSocks5(gate: PolicyGate): ProxyListener {
  return startProxyListener(() => socksHandshake(gate));
}

function socksHandshake(gate: PolicyGate): Handshake {
  /** The greeting's length once answered: it stays at the front of `bytes` until the request is taken too. */
  let greeting: number | null = null;
  return (conn, bytes) => {
    if (greeting === null) {
      if (bytes.length < 2) return null;
      if (bytes[0] !== VERSION) return (conn.reject(new Uint8Array([VERSION, NO_ACCEPTABLE_METHOD])), bytes.length);
      const methods = bytes[1]!;
      if (bytes.length < 2 + methods) return null;
      if (!bytes.subarray(2, 2 + methods).includes(NO_AUTH)) return (conn.reject(new Uint8Array([VERSION, NO_ACCEPTABLE_METHOD])), bytes.length);
      conn.send(new Uint8Array([VERSION, NO_AUTH]));
      greeting = 2 + methods;
    }
    const at = greeting;
    const request = parseRequest(bytes.subarray(at));
    if (request === null) return null;
    const used = at + request.length;
    if ("error" in request) {
      conn.reject(reply(request.error));
      return used;
    }
    void connect(gate, conn, request.host, request.port);
    return used;
  };
}

type Request = { length: number; host: string; port: number } | { length: number; error: number };

/** A complete request, or null while bytes are missing. */
function parseRequest(b: Buffer): Request | null {
  if (b.length < 5) return null;
  if (b[0] !== VERSION) return { length: b.length, error: REPLY.commandNotSupported };
  const cmd = b[1]!;
  const atyp = b[3]!;
  let host: string;
  let at: number;
  if (atyp === 1) {
    if (b.length < 10) return null;
    host = [...b.subarray(4, 8)].join(".");
    at = 8;
  } else if (atyp === 3) {
    const n = b[4]!;
    if (b.length < 5 + n + 2) return null;
    host = b.toString("latin1", 5, 5 + n);
    at = 5 + n;
  } else if (atyp === 4) {
    if (b.length < 22) return null;
    host = Array.from({ length: 8 }, (_, i) => b.readUInt16BE(4 + i * 2).toString(16)).join(":");
    at = 20;
  } else {
    return { length: b.length, error: REPLY.addressNotSupported };
  }
  const port = b.readUInt16BE(at);
  const length = at + 2;
  return cmd === CMD_CONNECT ? { length, host, port } : { length, error: REPLY.commandNotSupported };
}

async function connect(gate: PolicyGate, conn: ClientConnection, host: string, port: number): Promise<void> {
  const answer = await gate.check({ host, port, protocol: "socks5_tcp", client: conn.client });
  if (!answer.ok) return conn.reject(reply(REPLY.notAllowed));
  if (!(await conn.pipe(answer.address, port, reply(REPLY.succeeded)))) conn.reject(reply(REPLY.hostUnreachable));
}

/** A reply with the unspecified IPv4 bound address. */
function reply(code: number): Uint8Array {
  return new Uint8Array([VERSION, code, 0, 1, 0, 0, 0, 0, 0, 0]);
}
