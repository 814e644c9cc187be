/**
 * The rig of the client-* remote tests: a fake registry and routing fake
 * rendezvous, a HarnessProxy in front of the rendezvous's harness side (the
 * registry's `…/connect` hands out the proxy), an executor registered through
 * them, and a temp dir for its files. `stop` kills and removes all of it.
 */
import { FakeRendezvous } from "../helpers/fake-rendezvous.ts";
import { type FakeRegistry, startFakeRegistry } from "../helpers/fake-registry.ts";
import { tempDir } from "../helpers/server.ts";
import { type SpawnedExecutor, spawnExecutor } from "../helpers/spawned-executor.ts";
import { type HarnessProxy, startHarnessProxy } from "./client-harness-proxy.ts";

export const RIG_ENV = { PATH: "/usr/bin:/bin" };

export type ProxiedRelay = {
  rendezvous: FakeRendezvous;
  proxy: HarnessProxy;
  registry: FakeRegistry;
  executor: SpawnedExecutor;
  dir: ReturnType<typeof tempDir>;
  /** connectRemote's options for this environment. */
  remote: { registry: string; environmentId: string; credentials: { bearer: string } };
  stop(): Promise<void>;
};

/** `command` is the executor (`execbox` or the reference's `exec-server`), started with `--remote`. */
export async function startProxiedRelay(command: string[], label: string, rendezvousOptions: { backpressureLimit?: number } = {}): Promise<ProxiedRelay> {
  const dir = tempDir();
  const home = tempDir("execbox-codex-home-");
  const rendezvous = new FakeRendezvous(rendezvousOptions);
  const proxy = startHarnessProxy(rendezvous.harnessUrl());
  const registry = startFakeRegistry({ rendezvousUrl: rendezvous.url(), harnessUrl: proxy.url, bindAuthorizations: true });
  // CODEX_API_KEY is the executor's registry bearer.
  const env = { ...RIG_ENV, HOME: home.path, CODEX_HOME: home.path, CODEX_API_KEY: "test-key" };
  const executor = spawnExecutor([...command, "--remote", registry.url, "--environment-id", "env-1"], env);
  const stop = async () => {
    await executor.stop();
    proxy.close();
    rendezvous.stop();
    await registry[Symbol.asyncDispose]();
    dir[Symbol.dispose]();
    home[Symbol.dispose]();
  };
  try {
    await rendezvous.waitFor(() => rendezvous.connected, `${label}'s rendezvous socket`, 20_000);
  } catch (e) {
    await stop();
    throw e;
  }
  const remote = { registry: registry.url, environmentId: "env-1", credentials: { bearer: "harness-token" } };
  return { rendezvous, proxy, registry, executor, dir, remote, stop };
}
