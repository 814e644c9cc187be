/**
 * The `networkProxy` the Codex CLI sends on `process/start` with
 * networkProxyLaunch (capabilities.md; its seven required proxy fields as the
 * reference checks them), for the tests and probes that send one.
 */
export function networkProxyLaunch(proxyExtra: Record<string, unknown> = {}) {
  return {
    proxy: {
      enabled: true,
      enableSocks5: true,
      enableSocks5Udp: false,
      allowUpstreamProxy: false,
      dangerouslyAllowAllUnixSockets: false,
      mode: "full",
      domains: { "example.com": "allow" },
      unixSockets: {},
      allowLocalBinding: false,
      ...proxyExtra,
    },
    auditMetadata: { originator: "codex_exec" },
    environmentId: "remote",
    executionId: "0b6a3a54-7a8e-4c57-9a9f-3f1d8d7e6c10",
  };
}
