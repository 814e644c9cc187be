/**
 * The managed HTTP proxy. Each request on a client connection is checked on
 * its own (absolute-form `GET http://host/path`, or origin-form with its
 * `Host`) and forwarded in origin form; the response comes back as it came,
 * and the connection stays open for the next request, as a real proxy's
 * does. CONNECT opens a checked tunnel; a 101 answer turns the exchange
 * into one. Refusals are the reference's 403 answers (the connection stays
 * usable); a malformed request is a 400 that ends it.
 */
import { ByteSocket, connectByteSocket, listenByteSockets } from "./byte-socket.ts";
import type { CredentialBroker } from "./credentials.ts";
import type { PolicyGate } from "./gate.ts";
import { ambiguousFraming, copyBody, forwardableLines, headerValues, readHead, requestFraming, responseFraming } from "./http-framing.ts";
import type { Endpoint } from "../http/socket-reader.ts";
import { badGateway, badRequest, connectEstablished, refusal } from "./http-replies.ts";
import { type Interceptor, pipeToInterceptor } from "./mitm/intercept.ts";
import { MAX_PROXY_CONNECTIONS, type ProxyListener } from "./proxy-listener.ts";

/** Longest request or response head the proxy reads. */
export const MAX_PROXY_HEAD_BYTES = 64 * 1024;
/** Request headers meant for the proxy, not the origin. */
const PROXY_ONLY_HEADERS = new Set(["proxy-connection", "proxy-authorization"]);

/**
 * `masking`: credential masking's TLS terminator and the child's broker,
 * which says which CONNECTs it takes (those a brokered credential is for)
 * and restores the credentials of plain-HTTP requests to a custom
 * provider's loopback `http://` prefix; null without masking.
 */
export type Masking = { interceptor: Interceptor; broker: CredentialBroker };

export function startHttpProxy(gate: PolicyGate, masking: Masking | null = null): ProxyListener {
  const clients = new Set<ByteSocket>();
  const listener = listenByteSockets((client) => {
    if (clients.size >= MAX_PROXY_CONNECTIONS) return client.destroy();
    clients.add(client);
    client.onceClosed(() => clients.delete(client));
    void serve(gate, client, masking).finally(() => client.linger());
  });
  return {
    port: listener.port,
    stop() {
      listener.stop(true);
      for (const s of clients) s.destroy();
    },
  };
}

type Upstream = { key: string; socket: ByteSocket };

async function serve(gate: PolicyGate, client: ByteSocket, masking: Masking | null): Promise<void> {
  const peer = client.remote;
  let upstream: Upstream | null = null;
  try {
    for (;;) {
      const head = await readHead(client, MAX_PROXY_HEAD_BYTES).catch(() => "bad" as const);
      if (head === null) return;
      const request = head === "bad" ? null : /^([A-Za-z]+) (\S+) (HTTP\/1\.[01])$/.exec(head[0]!);
      if (!request || head === "bad") return void (await client.write(badRequest()).catch(() => {}));
      const [, method, target, version] = request as unknown as [string, string, string, string];
      const headers = head.slice(1);
      if (method.toUpperCase() === "CONNECT") return await tunnel(gate, client, peer, target, masking);
      const dest = destinationOf(target, headers);
      const bodyFraming = requestFraming(headers);
      // Where credentials are restored, a head the origin could frame otherwise is refused too (http-framing.ts).
      const restores = dest !== null && masking?.broker.coversPlain(dest.host, dest.port) === true;
      if (!dest || !bodyFraming || (restores && ambiguousFraming(headers))) return void (await client.write(badRequest()).catch(() => {}));
      const answer = await gate.check({ host: dest.host, port: dest.port, protocol: "http", method, client: peer });
      if (!answer.ok) {
        await copyBody(client, null, bodyFraming);
        await client.write(refusal(answer, dest.host, dest.port, "http"));
        continue;
      }
      const key = `${answer.address}:${dest.port}`;
      if (upstream?.key !== key || upstream.socket.destroyed) {
        upstream?.socket.destroy();
        upstream = await open(key, answer.address, dest.port);
      }
      if (!upstream) {
        await copyBody(client, null, bodyFraming);
        await client.write(badGateway());
        continue;
      }
      const lines = forwardableLines(headers, bodyFraming);
      const sent = restores && masking ? masking.broker.restoreHeaders({ scheme: "http", ...dest }, lines) : lines;
      await upstream.socket.write(`${method} ${dest.path} ${version}\r\n${forwardedHeaders(sent)}\r\n`);
      await copyBody(client, upstream.socket, bodyFraming);
      const keep = await relayResponse(upstream.socket, client, method);
      if (!keep || !wantsAnother(version, headers)) return;
    }
  } catch {
    // A broken client or origin ends this connection only.
  } finally {
    upstream?.socket.end();
  }
}

/** The origin's answer back to the client; false when the connection cannot carry another request. */
export async function relayResponse(upstream: Endpoint, client: Endpoint, method: string): Promise<boolean> {
  for (;;) {
    const head = await readHead(upstream, MAX_PROXY_HEAD_BYTES);
    if (!head) throw new Error("origin closed before answering");
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head[0]!)?.[1] ?? Number.NaN);
    if (!Number.isInteger(status)) throw new Error("invalid status line");
    await client.write(`${head.join("\r\n")}\r\n\r\n`);
    if (status === 101) {
      await pipeBoth(client, upstream);
      return false;
    }
    if (status >= 100 && status < 200) continue; // interim answers; the final one follows
    const bodiless = method.toUpperCase() === "HEAD" || status === 204 || status === 304;
    const framing = bodiless ? ({ kind: "none" } as const) : responseFraming(head.slice(1));
    await copyBody(upstream, client, framing);
    const closing = headerValues(head.slice(1), "connection").some((v) => v.toLowerCase().includes("close"));
    return framing.kind !== "close" && !closing;
  }
}

async function tunnel(gate: PolicyGate, client: ByteSocket, peer: string, target: string, masking: Masking | null): Promise<void> {
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d{1,5}))?$/.exec(target);
  const port = m ? Number(m[2] ?? 443) : 0;
  if (!m || port < 1 || port > 65535) return void (await client.write(badRequest()).catch(() => {}));
  const host = m[1]!;
  const answer = await gate.check({ host, port, protocol: "https_connect", method: "CONNECT", client: peer });
  if (!answer.ok) return void (await client.write(refusal(answer, host, port, "https_connect")));
  // Terminated only for a host a brokered credential is for; any other is tunnelled untouched.
  const upstream = masking?.broker.covers(host, port)
    ? await pipeToInterceptor(masking.interceptor, { host, address: answer.address, port })
    : await connectByteSocket(answer.address, port);
  if (!upstream) return void (await client.write(badGateway()));
  try {
    await client.write(connectEstablished());
    await pipeBoth(client, upstream);
  } finally {
    upstream.end();
  }
}

/**
 * Both ways until either side ends (the other is ended after the last byte
 * it was given): from the sockets' data callbacks when both are Bun sockets,
 * else chunk by chunk (a terminated TLS connection).
 */
export async function pipeBoth(a: Endpoint, b: Endpoint): Promise<void> {
  if (a instanceof ByteSocket && b instanceof ByteSocket) return void (await Promise.race([a.pipeInto(b), b.pipeInto(a)]));
  const oneWay = async (from: Endpoint, to: Endpoint) => {
    for (let c = await from.read(); c; c = await from.read()) await to.write(c);
    to.end();
  };
  await Promise.race([oneWay(a, b), oneWay(b, a)]).catch(() => {});
}

async function open(key: string, address: string, port: number): Promise<Upstream | null> {
  const socket = await connectByteSocket(address, port);
  return socket ? { key, socket } : null;
}

/** Whether the client keeps the connection for another request (HTTP/1.1 unless `close`; 1.0 only with `keep-alive`). */
function wantsAnother(version: string, headers: string[]): boolean {
  const tokens = headerValues(headers, "connection").join(",").toLowerCase();
  return version === "HTTP/1.1" ? !tokens.includes("close") : tokens.includes("keep-alive");
}

/** Where a request goes: its absolute-form URL, or its `Host` for origin form. */
function destinationOf(target: string, headers: string[]): { host: string; port: number; path: string } | null {
  if (target.startsWith("/")) {
    const host = headerValues(headers, "host")[0];
    if (!host) return null;
    const m = /^(\[[^\]]+\]|[^:]+)(?::(\d{1,5}))?$/.exec(host);
    return m ? { host: m[1]!, port: Number(m[2] ?? 80), path: target } : null;
  }
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return null;
  }
  const defaultPort = url.protocol === "https:" ? 443 : 80;
  if (url.protocol !== "http:" && url.protocol !== "https:") return null;
  return { host: url.hostname, port: url.port === "" ? defaultPort : Number(url.port), path: `${url.pathname || "/"}${url.search}` };
}

function forwardedHeaders(lines: string[]): string {
  return lines
    .filter((l) => !PROXY_ONLY_HEADERS.has(l.slice(0, l.indexOf(":")).trim().toLowerCase()))
    .map((l) => `${l}\r\n`)
    .join("");
}
