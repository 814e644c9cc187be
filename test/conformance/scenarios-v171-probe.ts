/**
 * What 0.171.0 added to process/start: `managedNetwork.transparentTcp` and
 * `networkProxy.proxy.transparentTcp`, and spawn errors' `data.kind`. Played
 * against 0.169.0 too (which knows neither), so the difference shows.
 */
import { networkProxyLaunch } from "../helpers/network-proxy.ts";
import { type Scenario, awaitProcess, ready, req, startParams } from "./types.ts";

const special = (kind: string) => ({ type: "special", value: { kind } });
const sandbox = {
  permissions: {
    type: "managed",
    file_system: { type: "restricted", entries: [{ path: special("root"), access: "read" }] },
    network: "restricted",
  },
  windowsSandboxLevel: "disabled",
};
const start = (processId: string, extra: Record<string, unknown>) => req("process/start", startParams(processId, ["/bin/sh", "-c", "true"], extra));

export const v171ProbeScenarios: Scenario[] = [
  {
    name: "probe/transparent-tcp-params",
    steps: [
      ...ready(),
      start("m1", { managedNetwork: { transparentTcp: false } }),
      awaitProcess("m1", { timeoutMs: 3000 }),
      start("m2", { managedNetwork: { transparentTcp: true } }),
      awaitProcess("m2", { timeoutMs: 3000 }),
      start("m3", { managedNetwork: { transparentTcp: "yes" } }),
      start("m4", { managedNetwork: { transparentTcp: null } }),
      awaitProcess("m4", { timeoutMs: 3000 }),
      start("m5", { sandbox, enforceManagedNetwork: true, managedNetwork: { transparentTcp: true } }),
      awaitProcess("m5", { timeoutMs: 3000 }),
    ],
  },
  {
    name: "probe/transparent-tcp-network-proxy",
    steps: [
      ...ready(),
      start("n1", { networkProxy: networkProxyLaunch({ transparentTcp: "yes" }) }),
      start("n2", { networkProxy: networkProxyLaunch({ transparentTcp: true }) }),
      // The 0.171.0 CLI sends `unixSockets: null`; `null` maps are absent ones.
      start("n3", { networkProxy: networkProxyLaunch({ domains: null, unixSockets: null }) }),
      awaitProcess("n3", { timeoutMs: 3000 }),
    ],
  },
  {
    name: "probe/spawn-error-data",
    steps: [
      ...ready(),
      req("process/start", startParams("s1", ["/nonexistent-execbox-probe/program"])),
      req("process/start", startParams("s2", ["no-such-program-anywhere"])),
      req("process/start", startParams("s3", ["no-such-program-anywhere"], { tty: true })),
      req("process/start", startParams("s4", ["sh"], { tty: true, env: {} })),
      req("process/start", startParams("s5", ["sh"], { cwd: "file:///nonexistent-execbox-probe" })),
      req("process/start", startParams("s6", ["/etc/hostname"])),
      req("process/start", startParams("s7", [""])),
      req("process/start", startParams("s8", [""], { tty: true })),
    ],
  },
];
