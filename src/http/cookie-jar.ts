/**
 * The reference's ChatGPT Cloudflare cookie jar (codex-rs http-client,
 * chatgpt_cloudflare_cookies.rs, probed on 0.169.0 and 0.171.0): cookies are
 * taken only from HTTPS responses of ChatGPT hosts, only with a Cloudflare
 * infrastructure name (load-balancer affinity such as `__cflb`, bot
 * management, …), and sent back only to HTTPS ChatGPT hosts. No other cookie
 * is ever kept, so no account or session cookie can leak between callers
 * sharing the executor (the jar is per process, as the reference's is).
 */

/** Hosts whose traffic counts as ChatGPT's: these exact names and their subdomains. */
const CHATGPT_HOSTS = ["chatgpt.com", "chat.openai.com", "chatgpt-staging.com"];
const CHATGPT_SUFFIXES = [".chatgpt.com", ".chatgpt-staging.com"];
/** Cloudflare's documented service cookies, plus OpenAI's own load-balancer cookie (`__oailb`, seen kept on both versions). */
const KEPT_NAMES = new Set(["__cf_bm", "__cflb", "__cfruid", "__cfseq", "__cfwaitingroom", "_cfuvid", "cf_clearance", "cf_ob_info", "cf_use_ob", "__oailb"]);

export function isChatGptUrl(url: URL): boolean {
  if (url.protocol !== "https:") return false;
  const host = url.hostname.toLowerCase();
  return CHATGPT_HOSTS.includes(host) || CHATGPT_SUFFIXES.some((s) => host.endsWith(s));
}

export function isKeptCookieName(name: string): boolean {
  return KEPT_NAMES.has(name) || name.startsWith("cf_chl_");
}

type Cookie = { name: string; value: string; domain: string; hostOnly: boolean; path: string; expires: number };

export class CloudflareCookieJar {
  private cookies: Cookie[] = [];

  constructor(private readonly now: () => number = Date.now) {}

  /** Takes the allowed cookies from a response's Set-Cookie values. */
  store(url: URL, setCookies: string[]): void {
    if (!isChatGptUrl(url)) return;
    for (const header of setCookies) {
      const cookie = parseSetCookie(header, url, this.now());
      if (!cookie || !isKeptCookieName(cookie.name)) continue;
      this.cookies = this.cookies.filter((c) => !(c.name === cookie.name && c.domain === cookie.domain && c.path === cookie.path));
      if (cookie.expires > this.now()) this.cookies.push(cookie);
    }
  }

  /** The Cookie header value for a request, or undefined when nothing applies. */
  header(url: URL): string | undefined {
    if (!isChatGptUrl(url)) return undefined;
    const host = url.hostname.toLowerCase();
    const now = this.now();
    this.cookies = this.cookies.filter((c) => c.expires > now);
    const match = this.cookies.filter(
      (c) => (c.hostOnly ? c.domain === host : host === c.domain || host.endsWith(`.${c.domain}`)) && pathMatches(url.pathname, c.path),
    );
    return match.length ? match.map((c) => `${c.name}=${c.value}`).join("; ") : undefined;
  }
}

function pathMatches(path: string, cookiePath: string): boolean {
  return path === cookiePath || (path.startsWith(cookiePath) && (cookiePath.endsWith("/") || path[cookiePath.length] === "/"));
}

/** RFC 6265 §5.2, the parts that decide where a cookie goes and how long it lives. */
function parseSetCookie(header: string, url: URL, now: number): Cookie | undefined {
  const [pair = "", ...attrs] = header.split(";");
  const eq = pair.indexOf("=");
  if (eq <= 0) return undefined;
  const host = url.hostname.toLowerCase();
  const dir = url.pathname.slice(0, url.pathname.lastIndexOf("/"));
  const cookie: Cookie = { name: pair.slice(0, eq).trim(), value: pair.slice(eq + 1).trim(), domain: host, hostOnly: true, path: dir || "/", expires: Infinity };
  for (const attr of attrs) {
    const [k = "", ...rest] = attr.split("=");
    const key = k.trim().toLowerCase();
    const value = rest.join("=").trim();
    if (key === "max-age" && /^-?\d+$/.test(value)) cookie.expires = now + Number(value) * 1000;
    else if (key === "expires" && cookie.expires === Infinity && !Number.isNaN(Date.parse(value))) cookie.expires = Date.parse(value);
    else if (key === "path" && value.startsWith("/")) cookie.path = value;
    else if (key === "domain" && value) {
      const domain = value.replace(/^\./, "").toLowerCase();
      // A cookie may only widen to a domain the setting host belongs to.
      if (host !== domain && !host.endsWith(`.${domain}`)) return undefined;
      cookie.domain = domain;
      cookie.hostOnly = false;
    }
  }
  return cookie;
}
