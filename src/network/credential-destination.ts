/**
 * A custom credential provider's `url_prefixes` entry: where its real value
 * may go (probed on 0.171.0). `https://host[:port][/path]`; a bare
 * `host/path` means HTTPS (HTTP for a loopback host); `http://` only for a
 * loopback host; `*.host` matches its subdomains; no user, query or
 * fragment. A request matches on scheme, host, port (the scheme's default
 * when left out) and path: `/api` covers `/api`, `/api/` and `/api/x`, not
 * `/apix`; a path with dot segments (`/api/../x`, `/api/%2e%2e/x`) matches
 * nothing.
 */
import { normalizeHost } from "./policy.ts";

export type CredentialDestination = { scheme: "http" | "https"; host: string; wildcard: boolean; port: number; pathPrefix: string };

const LOOPBACK = (host: string) => host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);

/** Parses one entry; null when it is not one the reference accepts. */
export function parseDestination(value: string): CredentialDestination | null {
  const text = value.trim();
  const sep = text.indexOf("://");
  const given = sep >= 0 ? text.slice(0, sep).toLowerCase() : null;
  let authority = sep >= 0 ? text.slice(sep + 3) : text;
  const wildcard = authority.startsWith("*.");
  if (wildcard) authority = `wildcard.${authority.slice(2)}`;
  let url: URL;
  try {
    url = new URL(`https://${authority}`);
  } catch {
    return null;
  }
  if (url.username || url.password || url.search || url.hash || authority.includes("?") || authority.includes("#")) return null;
  let host = normalizeHost(url.hostname);
  if (wildcard) host = host.slice("wildcard.".length);
  if (!host || host.includes("*")) return null;
  const loopback = !wildcard && LOOPBACK(host);
  const scheme = given === null ? (loopback ? "http" : "https") : given === "https" ? "https" : given === "http" && loopback ? "http" : null;
  if (!scheme) return null;
  // An HTTPS URL drops an explicit :443; the port is read from the authority as given.
  const port = /^(?:\[[^\]]*\]|[^:/]*):(\d+)/.exec(authority)?.[1];
  return { scheme, host, wildcard, port: port ? Number(port) : scheme === "https" ? 443 : 80, pathPrefix: url.pathname };
}

/** Whether a connection to `host:port` is one this destination's requests travel on. */
export function destinationHost(d: CredentialDestination, host: string, port: number): boolean {
  const h = normalizeHost(host);
  return d.port === port && (d.wildcard ? h.endsWith(`.${d.host}`) : h === d.host);
}

/** Whether a request (scheme, host, port, its raw path) may carry this destination's credential. */
export function destinationMatches(d: CredentialDestination, scheme: string, host: string, port: number, path: string): boolean {
  if (scheme !== d.scheme || !destinationHost(d, host, port)) return false;
  const p = path.split("?")[0]!;
  if (!safePath(p)) return false;
  const prefix = d.pathPrefix;
  return prefix === "/" || p === prefix || (p.startsWith(prefix) && (prefix.endsWith("/") || p[prefix.length] === "/"));
}

/**
 * No dot segments, literal or percent-encoded, also with a `;` parameter
 * (`..;`, which servlet containers resolve as `..`), and no encoded or back
 * slashes: the path the origin resolves is the one checked.
 */
function safePath(path: string): boolean {
  if (!path.startsWith("/") || /%2f|%5c|\\/i.test(path)) return false;
  return path.split("/").every((segment) => !/^(?:\.|%2e){1,2}(?:;.*)?$/i.test(segment));
}

/** Whether a child under `allowLocalBinding` bypasses the proxy for this destination (its host is in NO_PROXY). */
export function bypassesProxy(d: CredentialDestination): boolean {
  if (d.wildcard) return false;
  const h = d.host;
  return LOOPBACK(h) || /^10\./.test(h) || /^192\.168\./.test(h) || /^172\.(1[6-9]|2\d|3[01])\./.test(h);
}
