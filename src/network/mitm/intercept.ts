/**
 * TLS termination for credential masking. A CONNECT to a host one of the
 * child's brokered credentials is for (and only such a CONNECT: every other
 * one is tunnelled untouched) is answered 200 and its bytes piped into a
 * server on 127.0.0.1 that terminates TLS with the executor CA's leaf for the
 * host the CONNECT named, whatever name the child's handshake asks for (SNI),
 * as the reference does: a leaf is never made for a name the policy did not
 * see, and a child that asks for another name fails to verify the one it
 * gets. Each decrypted request goes on, over TLS verified
 * against the executor's trust store, to the address the policy allowed,
 * with the dummies in its headers swapped for the real values (credentials.ts).
 * The pipe's local port names which CONNECT a TLS connection belongs to.
 */
import { type Socket, createServer, isIP } from "node:net";
import { TLSSocket, connect as tlsConnect } from "node:tls";
import { NodeEndpoint } from "../../http/socket-reader.ts";
import { type ByteSocket, connectByteSocket } from "../byte-socket.ts";
import type { CredentialBroker } from "../credentials.ts";
import { ambiguousFraming, copyBody, headerValues, readHead, requestFraming } from "../http-framing.ts";
import { MAX_PROXY_HEAD_BYTES, relayResponse } from "../http-proxy.ts";
import { badGateway, badRequest } from "../http-replies.ts";
import { normalizeHost } from "../policy.ts";
import { MAX_PROXY_CONNECTIONS } from "../proxy-listener.ts";
import type { MitmAuthority } from "./authority.ts";

/** Where a terminated CONNECT goes: the name it asked for, the address the policy allowed, the port. */
export type Destination = { host: string; address: string; port: number };

/** What the HTTP proxy needs of the terminator: the port to pipe into, and which destination a pipe carries. */
export type Interceptor = { port: number; expect(pipeLocalPort: number, dest: Destination): void; forget(pipeLocalPort: number): void; stop(): void };

export type InterceptDeps = {
  authority: MitmAuthority;
  broker: CredentialBroker;
};

/**
 * How long an accepted connection waits for the proxy to say which CONNECT it
 * carries. The proxy does so as soon as its connect completes, which may be
 * just after the accept; a connection nobody claims (another local process
 * that found the port) is dropped after this.
 */
export const UNCLAIMED_PIPE_MS = 5_000;

export function startInterceptor(deps: InterceptDeps): Interceptor {
  const pipes = new PipeDestinations();
  const live = new Set<Socket>();
  const server = createServer((raw) => {
    live.add(raw);
    raw.on("close", () => live.delete(raw));
    raw.on("error", () => {});
    // Nothing is read from `raw` until it is wrapped: the ClientHello waits in it meanwhile.
    void pipes.claim(raw.remotePort ?? -1).then(async (dest) => {
      if (!dest) return void raw.destroy();
      const secureContext = await deps.authority.contextFor(dest.host.toLowerCase()).catch(() => null);
      if (!secureContext || raw.destroyed) return void raw.destroy();
      // HTTP/1.1 only: the terminator reads requests as HTTP/1.1 heads.
      const socket = new TLSSocket(raw, { isServer: true, secureContext, ALPNProtocols: ["http/1.1"] });
      socket.on("error", () => {});
      // Ended, not destroyed: TLS holds written bytes until they are encrypted and sent.
      socket.once("secure", () => void serveDecrypted(deps, socket, dest).finally(() => socket.end(() => socket.destroy())));
    });
  });
  server.maxConnections = MAX_PROXY_CONNECTIONS;
  server.listen(0, "127.0.0.1");
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("the credential-masking TLS terminator did not get a port");
  return {
    port: address.port,
    expect: (localPort, dest) => pipes.register(localPort, dest),
    forget: (localPort) => pipes.forget(localPort),
    stop() {
      server.close();
      for (const s of live) s.destroy();
      pipes.clear();
    },
  };
}

/** Which CONNECT each pipe into the terminator carries, by the pipe's local port; the accept and the registration may come in either order. */
class PipeDestinations {
  private readonly known = new Map<number, Destination>();
  private readonly waiting = new Map<number, (dest: Destination | null) => void>();

  register(port: number, dest: Destination): void {
    const waiter = this.waiting.get(port);
    if (waiter) waiter(dest);
    else this.known.set(port, dest);
  }

  /** The destination of the pipe from `port`, once registered; null if it is not within UNCLAIMED_PIPE_MS. */
  claim(port: number): Promise<Destination | null> {
    const dest = this.known.get(port);
    this.known.delete(port);
    if (dest) return Promise.resolve(dest);
    return new Promise((resolve) => {
      const timer = setTimeout(() => settle(null), UNCLAIMED_PIPE_MS);
      const settle = (d: Destination | null) => {
        clearTimeout(timer);
        this.waiting.delete(port);
        resolve(d);
      };
      this.waiting.set(port, settle);
    });
  }

  forget(port: number): void {
    this.known.delete(port);
    this.waiting.get(port)?.(null);
  }

  clear(): void {
    this.known.clear();
    for (const settle of [...this.waiting.values()]) settle(null);
  }
}

/** Opens the pipe for a CONNECT the terminator takes: a plain TCP connection to its port, registered first. */
export async function pipeToInterceptor(interceptor: Interceptor, dest: Destination): Promise<ByteSocket | null> {
  const socket = await connectByteSocket("127.0.0.1", interceptor.port);
  if (!socket) return null;
  const localPort = socket.localPort;
  interceptor.expect(localPort, dest);
  // A handshake that never completes must not leave its destination behind.
  socket.onceClosed(() => interceptor.forget(localPort));
  return socket;
}

/** The decrypted requests of one terminated connection, each forwarded with its credential restored. */
async function serveDecrypted(deps: InterceptDeps, socket: TLSSocket, dest: Destination): Promise<void> {
  const client = new NodeEndpoint(socket);
  let upstream: NodeEndpoint | null = null;
  try {
    for (;;) {
      const head = await readHead(client, MAX_PROXY_HEAD_BYTES).catch(() => "bad" as const);
      if (head === null) return;
      const start = head === "bad" ? null : /^([A-Za-z]+) (\/\S*) (HTTP\/1\.[01])$/.exec(head[0]!);
      if (!start || head === "bad" || ambiguousFraming(head.slice(1))) return void (await client.write(badRequest()).catch(() => {}));
      const method = start[1]!;
      // ambiguousFraming refused a chunked body beside a Content-Length: the lines go on as they came.
      const framing = requestFraming(head.slice(1));
      if (!framing) return void (await client.write(badRequest()).catch(() => {}));
      const lines = head.slice(1);
      const headers = namesDestination(lines, dest) ? deps.broker.restoreHeaders({ scheme: "https", host: dest.host, port: dest.port, path: start[2]! }, lines) : lines;
      // One origin connection per child connection, opened again if the origin closed it between requests.
      if (!upstream || upstream.destroyed) upstream = await openTls(dest);
      if (!upstream) return void (await client.write(badGateway()).catch(() => {}));
      await upstream.write(`${head[0]}\r\n${headers.map((l) => `${l}\r\n`).join("")}\r\n`);
      await copyBody(client, upstream, framing);
      if (!(await relayResponse(upstream, client, method))) return;
    }
  } catch {
    // A broken child or origin ends this connection only.
  } finally {
    upstream?.socket.destroy();
  }
}

/**
 * Whether the request's one `Host` names the CONNECT's host and port. Only
 * then are credentials restored: the origin (a shared front, a CDN) may route
 * by `Host`, so a request to the covered host's address naming another would
 * carry the real value to a host it is not for; it goes on with the dummy.
 */
function namesDestination(lines: string[], dest: Destination): boolean {
  const hosts = headerValues(lines, "host");
  if (hosts.length !== 1 || !/^[^\s/?#@]+$/.test(hosts[0]!)) return false;
  let url: URL;
  try {
    url = new URL(`https://${hosts[0]}`);
  } catch {
    return false;
  }
  return normalizeHost(url.hostname) === normalizeHost(dest.host) && Number(url.port || 443) === dest.port;
}

/** TLS to the origin, verified against the executor's trust store for the name the child asked for. */
function openTls(dest: Destination): Promise<NodeEndpoint | null> {
  return new Promise((resolve) => {
    const socket = tlsConnect({ host: dest.address, port: dest.port, servername: isIP(dest.host) ? undefined : dest.host, ALPNProtocols: ["http/1.1"] });
    socket.once("error", () => resolve(null));
    socket.once("secureConnect", () => {
      socket.on("error", () => {});
      resolve(new NodeEndpoint(socket));
    });
  });
}
