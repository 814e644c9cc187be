/**
 * A policy execbox does not implement is refused, never ignored: such a
 * `process/start` must not start the command. (The managed proxy's own
 * refusals: test/network/managed-proxy.test.ts.) Against a real executor (EXECBOX_BIN when set).
 */
import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { networkProxyLaunch } from "../helpers/network-proxy.ts";
import { sharedExecutor, tempDir } from "../helpers/server.ts";

setDefaultTimeout(30_000);

const executor = sharedExecutor();
const dir = tempDir();
afterAll(() => dir[Symbol.dispose]());

/** capabilities.md, networkProxyLaunch: what process/start carries for a managed proxy with an allowlist. */
const NETWORK_PROXY = networkProxyLaunch();

const startTouching = (processId: string, marker: string, extra: Record<string, unknown>) =>
  executor.client.call("process/start", {
    processId,
    argv: ["/bin/sh", "-c", 'touch "$0"', marker],
    cwd: dir.uri,
    env: { PATH: "/usr/bin:/bin" },
    tty: false,
    ...extra,
  });

test("transparentTcp with a networkProxy is refused with -32602 (execbox routes no raw TCP), and the command never runs", async () => {
  const c = executor.client;
  const marker = join(dir.path, "ran-with-transparent-proxy");
  const answer = await startTouching("ttcp-proxy", marker, { networkProxy: NETWORK_PROXY, enforceManagedNetwork: true, managedNetwork: { transparentTcp: true } });
  expect(answer.error).toEqual({
    code: -32602,
    message:
      "sandbox intent cannot be enforced on this executor: managedNetwork.transparentTcp (raw TCP through the managed SOCKS listener) is not implemented by execbox (networkProxyTransparentTcp is false); the command was not started",
  });
  // No process was registered under that id either.
  expect((await c.call("process/read", { processId: "ttcp-proxy" })).error).toEqual({ code: -32600, message: "unknown process id ttcp-proxy" });
  // Let a command that would have run by now have had its chance: a plain one started after it runs and closes.
  const control = join(dir.path, "control");
  expect((await startTouching("control", control, {})).error).toBeUndefined();
  await c.processDone("control");
  expect([existsSync(control), existsSync(marker)]).toEqual([true, false]);
});

test("a networkProxy of the wrong shape gets the reference's serde error; nothing runs", async () => {
  const marker = join(dir.path, "ran-with-bad-proxy");
  const cases: [unknown, string][] = [
    ["x", 'invalid type: string "x", expected struct RemoteNetworkProxyLaunchConfig'],
    [{}, "missing field `proxy`"],
    [[], "invalid length 0, expected struct RemoteNetworkProxyLaunchConfig with 5 elements"],
    [{ proxy: "x" }, 'invalid type: string "x", expected struct RemoteNetworkProxyConfig'],
    [{ proxy: [] }, "invalid type: sequence, expected struct RemoteNetworkProxyConfig"],
    [{ proxy: {} }, "missing field `enabled`"],
    [{ proxy: { ...NETWORK_PROXY.proxy, mode: "bad" } }, "unknown variant `bad`, expected `limited` or `full`"],
    [{ proxy: { ...NETWORK_PROXY.proxy, domains: { a: "bad" } } }, "unknown variant `bad`, expected one of `none`, `allow`, `deny`"],
    [{ proxy: { ...NETWORK_PROXY.proxy, domains: [] } }, "invalid type: sequence, expected a map"],
    [{ ...NETWORK_PROXY, auditMetadata: null }, "invalid type: null, expected struct NetworkProxyAuditMetadata"],
    [{ ...NETWORK_PROXY, policyDecisionTimeoutMs: "x" }, 'invalid type: string "x", expected u64'],
  ];
  const answers = [];
  for (const [i, [networkProxy]] of cases.entries()) answers.push((await startTouching(`bad-proxy-${i}`, marker, { networkProxy })).error);
  expect(answers).toEqual(cases.map(([, message]) => ({ code: -32602, message })));
  expect(existsSync(marker)).toBe(false);
});

// The 0.171.0 CLI sends `unixSockets: null` when the profile names no sockets (seen in its
// process/start); both reference versions take `null` for `domains` and `unixSockets` as absent.
test("networkProxy.proxy domains and unixSockets may be null, as the Codex CLI sends them: the command runs", async () => {
  const marker = join(dir.path, "ran-with-null-maps");
  const networkProxy = networkProxyLaunch({ domains: null, unixSockets: null });
  expect((await startTouching("null-maps", marker, { networkProxy })).result).toEqual({ processId: "null-maps", sandboxType: "none" });
  await executor.client.processDone("null-maps");
  expect(existsSync(marker)).toBe(true);
});

test("networkProxy null (or absent) means no proxy, and the command runs", async () => {
  const marker = join(dir.path, "ran-without-proxy");
  expect((await startTouching("no-proxy", marker, { networkProxy: null })).result).toEqual({ processId: "no-proxy", sandboxType: "none" });
  await executor.client.processDone("no-proxy");
  expect(existsSync(marker)).toBe(true);
});

test("0.171.0's managedNetwork.transparentTcp: true needs the managed proxy execbox has not: refused with the reference's text, nothing runs", async () => {
  const marker = join(dir.path, "ran-with-transparent-tcp");
  const answers = [];
  for (const [i, managedNetwork] of [{ transparentTcp: true }, { transparentTcp: null }, { transparentTcp: "yes" }].entries()) {
    answers.push((await startTouching(`ttcp-${i}`, marker, { managedNetwork })).error);
  }
  expect(answers).toEqual([
    { code: -32602, message: "transparent TCP requires an executor-local managed proxy" },
    { code: -32602, message: "invalid type: null, expected a boolean" },
    { code: -32602, message: 'invalid type: string "yes", expected a boolean' },
  ]);
  expect((await startTouching("ttcp-off", marker, { managedNetwork: { transparentTcp: false } })).result).toEqual({ processId: "ttcp-off", sandboxType: "none" });
  await executor.client.processDone("ttcp-off");
});
