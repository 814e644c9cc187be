/**
 * `process/start.networkProxy` (networkProxyLaunch): a fresh HTTP proxy and,
 * with `enableSocks5`, a SOCKS5 listener on 127.0.0.1 for one process, gone
 * when it closes. With `policyDecisionTimeoutMs`, destinations the policy
 * does not allow by name are put to the client (review domains, decider.ts).
 * With `credentialMasking`, the child's provider credentials become dummies
 * and CONNECTs to those providers' hosts are terminated to put the real
 * values back (credentials.ts, mitm/). What execbox cannot carry out is
 * refused before anything starts (fail closed): a custom credential provider
 * that cannot be used (credential-providers.ts), SOCKS5 UDP for a child
 * outside a managed network namespace, transparent TCP.
 */
import { invalidParams } from "../protocol/errors.ts";
import type { z } from "zod";
import type { RemoteNetworkProxyLaunchConfig } from "../protocol/messages/network-proxy.ts";
import { CANNOT_ENFORCE } from "../sandbox/launch.ts";
import { type AddressResolver, systemResolver } from "./addresses.ts";
import { type AskClient, clientDecider } from "./decider.ts";
import { type PolicyDecisionEvent, PolicyGate } from "./gate.ts";
import { type CustomProvider, compileProviders } from "./credential-providers.ts";
import { CredentialBroker } from "./credentials.ts";
import { type Masking, startHttpProxy } from "./http-proxy.ts";
import type { MitmAuthority } from "./mitm/authority.ts";
import { startInterceptor } from "./mitm/intercept.ts";
import type { DomainAccess, ProxyPolicy } from "./policy.ts";
import { caBundleEnv, proxyEnv } from "./proxy-env.ts";
import type { ProxyListener } from "./proxy-listener.ts";
import { startSocks5 } from "./socks5.ts";

export type NetworkProxyLaunch = z.infer<typeof RemoteNetworkProxyLaunchConfig>;

export type ManagedProxy = {
  /** Gives the child's environment its proxy variables, and with masking its dummies (in place, over its own values). */
  apply(env: Record<string, string>): void;
  /** The 127.0.0.1 ports a sandboxed child must reach (bridged into its namespace). */
  ports: number[];
  stop(): void;
};

/**
 * Refuses a disabled proxy and transparent TCP without a sandbox (the
 * reference's checks and texts) and what this executor cannot enforce;
 * -32602 before the process starts. `ownNetwork`: the child runs in a network
 * namespace that reaches only its proxies' TCP ports (a sandbox with
 * enforceManagedNetwork, src/sandbox/launch.ts).
 */
export function refuseUnsupportedProxy(launch: NetworkProxyLaunch, sandboxed: boolean, ownNetwork: boolean): void {
  const p = launch.proxy;
  // The reference's checks and texts, in its order (probed: a zero timeout is named even for a disabled proxy).
  if (launch.policyDecisionTimeoutMs === 0) throw invalidParams("network policy decision callback timeout must be nonzero");
  if (!p.enabled) throw invalidParams("invalid network proxy config: executor-local network proxy launch requires an enabled proxy");
  const refuse = (what: string) => {
    throw invalidParams(`${CANNOT_ENFORCE}: networkProxy ${what} is not implemented by execbox; the command was not started`);
  };
  // Without masking the reference ignores providers (probed on 0.171.0); with it, one that cannot be used is refused.
  if (p.credentialMasking === true) providersOf(launch);
  // In its own namespace the child has no UDP path to any relay, under the reference too (probed: the
  // reference grants UDP ASSOCIATE there but no datagram gets out); execbox answers it 0x07 instead. The
  // Codex CLI sends `true` by default, always with that namespace. Without it the reference would relay UDP.
  if (p.enableSocks5Udp && !ownNetwork) refuse("enableSocks5Udp (SOCKS5 UDP associate)");
  if (p.transparentTcp === true) {
    if (!sandboxed) throw invalidParams("transparent TCP requires a managed Linux sandbox");
    refuse("transparentTcp (raw TCP through the SOCKS listener; networkProxyTransparentTcp is false)");
  }
}

/** A launch's custom providers, compiled once: the check and the start use the same (hostile patterns cost tens of ms each to compile). */
const compiledProviders = new WeakMap<NetworkProxyLaunch, CustomProvider[]>();
function providersOf(launch: NetworkProxyLaunch): CustomProvider[] {
  let providers = compiledProviders.get(launch);
  if (!providers) {
    providers = compileProviders(launch.proxy.credentialProviders ?? {}, launch.proxy.allowLocalBinding);
    compiledProviders.set(launch, providers);
  }
  return providers;
}

/** What the proxy tells the process's client: its decisions, and (review domains) its questions. */
export type ProxyHooks = { report: (e: PolicyDecisionEvent) => void; ask: AskClient };

/**
 * Starts the proxies; the launch was checked by `refuseUnsupportedProxy`
 * first. `authority`: the executor's CA, given exactly when the launch asks
 * for credential masking.
 */
export function startManagedProxy(launch: NetworkProxyLaunch, hooks: ProxyHooks, authority: MitmAuthority | null, resolve: AddressResolver = systemResolver): ManagedProxy {
  const p = launch.proxy;
  const policy: ProxyPolicy = { domains: (p.domains ?? {}) as Record<string, DomainAccess>, allowLocalBinding: p.allowLocalBinding, mode: p.mode, reviewDomains: p.reviewDomains ?? [] };
  // Without a timeout the reference has no decider: a review domain is then just not allowed.
  const stopped = new AbortController();
  const timeoutMs = launch.policyDecisionTimeoutMs;
  const decider = timeoutMs == null ? null : clientDecider(hooks.ask, timeoutMs, stopped.signal);
  const gate = new PolicyGate(policy, resolve, hooks.report, decider);
  const listeners: ProxyListener[] = [];
  const broker = authority ? new CredentialBroker(providersOf(launch)) : null;
  try {
    let masking: Masking | null = null;
    if (authority && broker) {
      const interceptor = startInterceptor({ authority, broker });
      listeners.push(interceptor);
      masking = { interceptor, broker };
    }
    const http = startHttpProxy(gate, masking);
    listeners.push(http);
    const socks = p.enableSocks5 ? startSocks5(gate) : null;
    if (socks) listeners.push(socks);
    return {
      apply(env) {
        Object.assign(env, proxyEnv(http.port, socks?.port ?? null, p.allowLocalBinding));
        if (authority && broker) {
          Object.assign(env, caBundleEnv(authority.files.bundlePath));
          broker.mask(env);
        }
      },
      // The terminator is reached only through the HTTP proxy: not a port the child is given.
      ports: [http.port, ...(socks ? [socks.port] : [])],
      stop: () => {
        // The process closed: its questions still waiting are refused, not those of other processes.
        stopped.abort();
        for (const l of listeners.splice(0)) l.stop();
      },
    };
  } catch (e) {
    for (const l of listeners) l.stop();
    throw e;
  }
}
