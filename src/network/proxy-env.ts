/**
 * The variables a child of a managed proxy gets (capabilities.md, probed on
 * 0.171.0): every common tool's HTTP proxy variable names the HTTP proxy,
 * the catch-all ones name the SOCKS5 listener, and the no-proxy lists are
 * empty (loopback and private ranges with `allowLocalBinding`).
 */
const HTTP_KEYS = [
  "HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "WS_PROXY", "WSS_PROXY", "ws_proxy", "wss_proxy",
  "YARN_HTTP_PROXY", "YARN_HTTPS_PROXY", "npm_config_http_proxy", "npm_config_https_proxy", "npm_config_proxy",
  "NPM_CONFIG_HTTP_PROXY", "NPM_CONFIG_HTTPS_PROXY", "NPM_CONFIG_PROXY", "BUNDLE_HTTP_PROXY", "BUNDLE_HTTPS_PROXY",
  "PIP_PROXY", "DOCKER_HTTP_PROXY", "DOCKER_HTTPS_PROXY",
];
const SOCKS_KEYS = ["ALL_PROXY", "all_proxy", "FTP_PROXY", "ftp_proxy"];
const NO_PROXY_KEYS = ["NO_PROXY", "no_proxy", "npm_config_noproxy", "NPM_CONFIG_NOPROXY", "BUNDLE_NO_PROXY"];
/** What bypasses the proxy with `allowLocalBinding`: this machine and the private ranges. */
export const LOCAL_NO_PROXY = "localhost,127.0.0.1,::1,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16";

export function proxyEnv(httpPort: number, socksPort: number | null, allowLocalBinding: boolean): Record<string, string> {
  const env: Record<string, string> = {};
  const http = `http://127.0.0.1:${httpPort}`;
  for (const k of HTTP_KEYS) env[k] = http;
  for (const k of SOCKS_KEYS) env[k] = socksPort === null ? http : `socks5h://127.0.0.1:${socksPort}`;
  for (const k of NO_PROXY_KEYS) env[k] = allowLocalBinding ? LOCAL_NO_PROXY : "";
  env.ELECTRON_GET_USE_PROXY = "true";
  env.NODE_USE_ENV_PROXY = "1";
  env.CODEX_NETWORK_ALLOW_LOCAL_BINDING = allowLocalBinding ? "1" : "0";
  env.CODEX_NETWORK_PROXY_ACTIVE = "1";
  return env;
}

/** Every tool's CA-bundle variable a masked child gets, all naming the bundle of system roots plus the executor's CA (probed on 0.171.0). */
const CA_BUNDLE_KEYS = [
  "BUNDLE_SSL_CA_CERT", "CARGO_HTTP_CAINFO", "CLOUDSDK_CORE_CUSTOM_CA_CERTS_FILE", "CODEX_CA_CERTIFICATE", "CURL_CA_BUNDLE", "DENO_CERT",
  "GIT_SSL_CAINFO", "NODE_EXTRA_CA_CERTS", "NPM_CONFIG_CAFILE", "PIP_CERT", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "npm_config_cafile",
];

export function caBundleEnv(bundlePath: string): Record<string, string> {
  return Object.fromEntries(CA_BUNDLE_KEYS.map((k) => [k, bundlePath]));
}
