/**
 * The executor's HTTP proxy, taken from its environment as the reference
 * (reqwest's system proxy) takes it: HTTP_PROXY for http URLs, HTTPS_PROXY
 * for https ones (upper case first, then lower case), ALL_PROXY for either,
 * NO_PROXY for hosts that go direct. Probed on 0.171.0: with HTTP_PROXY set,
 * even a loopback URL goes to the proxy in absolute form with the usual
 * headers. https goes through a CONNECT tunnel.
 */
import type { Duplex } from "node:stream";

type Env = Record<string, string | undefined>;

const pick = (env: Env, name: string): string | undefined => env[name] || env[name.toLowerCase()] || undefined;

/** The proxy URL for `url`, or undefined to go direct. */
export function proxyFor(url: URL, env: Env): URL | undefined {
  const raw = pick(env, url.protocol === "https:" ? "HTTPS_PROXY" : "HTTP_PROXY") ?? pick(env, "ALL_PROXY");
  if (!raw || bypassed(url.hostname, pick(env, "NO_PROXY") ?? "")) return undefined;
  try {
    return new URL(raw.includes("://") ? raw : `http://${raw}`);
  } catch {
    return undefined;
  }
}

/** NO_PROXY: `*`, or names/IPs matching the host exactly or as a parent domain (a leading dot is optional). */
function bypassed(host: string, noProxy: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, "");
  return noProxy.split(",").some((entry) => {
    const e = entry.trim().toLowerCase().replace(/^\./, "");
    return e === "*" || (e !== "" && (h === e || h.endsWith(`.${e}`)));
  });
}

/** `proxy-authorization` for a proxy URL carrying credentials. */
export function proxyAuthorization(proxy: URL): string | undefined {
  if (!proxy.username && !proxy.password) return undefined;
  const user = decodeURIComponent(proxy.username);
  const pass = decodeURIComponent(proxy.password);
  return `Basic ${Buffer.from(`${user}:${pass}`).toString("base64")}`;
}

/** Asks the proxy on `socket` for a tunnel to host:port; resolves once it answers 2xx. */
export function openTunnel(socket: Duplex, authority: string, auth: string | undefined): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    let head = "";
    const onData = (chunk: Buffer) => {
      head += chunk.toString("latin1");
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) return;
      socket.off("data", onData);
      socket.off("error", reject);
      socket.off("close", onClose);
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1]);
      if (status >= 200 && status < 300) resolve(socket);
      else reject(new Error(`proxy answered ${status}`));
    };
    const onClose = () => reject(new Error("proxy closed the connection"));
    socket.on("data", onData);
    socket.once("error", reject);
    socket.once("close", onClose);
    socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n${auth ? `proxy-authorization: ${auth}\r\n` : ""}\r\n`);
  });
}
