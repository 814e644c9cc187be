/**
 * Managed network: with `enforceManagedNetwork` and `managedNetwork.loopbackPorts`,
 * a sandboxed command reaches exactly the listed 127.0.0.1 ports of the host
 * (through execbox's bridge) and nothing else; without the ports it fails closed.
 */
import { beforeAll, afterAll, expect, setDefaultTimeout, test } from "bun:test";
import type { TCPSocketListener } from "bun";
import { readdirSync, rmSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { expectNoDatagramEscape, sandboxDirs, special } from "../helpers/sandbox.ts";
import { sharedExecutor, tempDir } from "../helpers/server.ts";

setDefaultTimeout(30_000);

const executor = sharedExecutor();
const dirs = sandboxDirs();
let allowed: TCPSocketListener<undefined>;
let other: TCPSocketListener<undefined>;
let otherConnections = 0;
beforeAll(() => {
  // An echo server (the "proxy" the sandbox may use) and one it must not reach.
  allowed = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data: (s, d) => void s.write(`echo:${d.toString()}`) } });
  other = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { open: () => void otherConnections++, data() {} } });
});
afterAll(() => {
  allowed.stop(true);
  other.stop(true);
});

const sandbox = (extra: object[] = []) => ({
  permissions: {
    type: "managed",
    file_system: { type: "restricted", entries: [{ path: special("root"), access: "read" }, { path: special("project_roots"), access: "write" }, ...extra] },
    network: "restricted",
  },
  cwd: dirs.ws.uri,
  workspaceRoots: [dirs.ws.uri],
  windowsSandboxLevel: "disabled",
});

async function startManaged(script: string, managedNetwork: object | undefined, c = executor.client, box: object = sandbox()) {
  const id = `m${Math.random().toString(36).slice(2)}`;
  const params = { processId: id, argv: ["bash", "-c", script], cwd: dirs.ws.uri, env: { PATH: "/usr/bin:/bin" }, tty: false, sandbox: box, enforceManagedNetwork: true, managedNetwork };
  const start = await c.call("process/start", params);
  if (start.error) return { error: start.error };
  const events = await c.processDone(id);
  return { exited: events.find((e) => e.method === "process/exited")!.params, stdout: c.output(id, "stdout").toString(), stderr: c.output(id, "stderr").toString() };
}

test("the listed port is reachable (round trip through the bridge); another port and Unix sockets are not", async () => {
  const script = [
    `exec 3<>/dev/tcp/127.0.0.1/${allowed.port}; printf hello >&3; head -c 10 <&3; echo`,
    `(exec 4<>/dev/tcp/127.0.0.1/${other.port}) 2>/dev/null && echo other-reached || echo other-refused`,
    `perl -MSocket -e 'socket(S, AF_UNIX, SOCK_STREAM, 0) or die "unix: $!\\n"'`,
  ].join("; ");
  const r = await startManaged(script, { loopbackPorts: [allowed.port] });
  expect(r.stdout).toBe("echo:hello\nother-refused\n");
  expect(r.stderr).toBe("unix: Operation not permitted\n");
  expect(otherConnections).toBe(0);
  // The host half of the bridge went with the process (released before process/closed reached us).
  expect(readdirSync(join(tmpdir(), `execbox-sandbox-${userInfo().uid}`)).filter((n) => n.startsWith("net-"))).toEqual([]);
});

test("enforceManagedNetwork without ports fails closed; without a sandbox it is ignored (as the reference)", async () => {
  for (const managed of [undefined, {}, { loopbackPorts: [] }]) {
    const r = await startManaged("true", managed);
    expect(r.error?.code).toBe(-32602);
    expect(r.error?.message).toBe("sandbox intent cannot be enforced on this executor: enforceManagedNetwork needs managedNetwork.loopbackPorts (the proxies the sandbox may reach)");
  }
  const c = executor.client;
  const plain = await c.call("process/start", { processId: "plain", argv: ["true"], cwd: dirs.ws.uri, env: {}, tty: false, enforceManagedNetwork: true, managedNetwork: { loopbackPorts: [1] } });
  expect(plain.result).toEqual({ processId: "plain", sandboxType: "none" });
});

test("escape: no datagram to a host Unix socket from the managed network either (no datagram socketpair)", async () => {
  const run = (script: string) => startManaged(script, { loopbackPorts: [allowed.port] }) as Promise<{ stdout: string }>;
  await expectNoDatagramEscape(run, dirs.ws.path, dirs.outside.path);
});

/** An executor whose private dir (bridge sockets included) lies in a temp dir of this test: the attack stays inside it. */
const privTmp = tempDir("execbox-mn-tmp-");
const ownTmp = sharedExecutor([], { env: { ...(process.env as Record<string, string>), TMPDIR: privTmp.path } });
afterAll(() => privTmp[Symbol.dispose]());

/** Runs `attempts` (name → shell steps that swap the bridge socket for a test-owned one), then uses the bridged port. */
async function trySwaps(attempts: [string, string][], box: object): Promise<{ stdout: string; evilConnections: number }> {
  const evilPath = join(dirs.outside.path, "evil.sock");
  let evilConnections = 0;
  const evil = Bun.listen({ unix: evilPath, socket: { open: (s) => void (evilConnections++, s.end()), data() {} } });
  try {
    const port = allowed.port;
    const script = [
      `p=$(echo ${privTmp.path}/execbox-sandbox-*); d=$(echo $p/net-*); s=$d/${port}.sock; evil=${evilPath}`,
      ...attempts.map(([name, steps]) => `(${steps}) 2>/dev/null && echo ${name}-swapped || echo ${name}-refused`),
      `exec 3<>/dev/tcp/127.0.0.1/${port}; printf hi >&3; head -c 7 <&3; echo`,
    ].join("; ");
    const r = await startManaged(script, { loopbackPorts: [port] }, ownTmp.client, box);
    return { stdout: r.stdout ?? "", evilConnections };
  } finally {
    evil.stop(true);
  }
}

test("escape: the bridge's socket cannot be swapped for another host socket (in place, by renaming the bridge or private dir)", async () => {
  // The whole temp dir writable: everything the command could reach, it may change.
  const box = sandbox([{ path: { type: "path", path: privTmp.uri }, access: "write" }]);
  const r = await trySwaps(
    [
      ["in-place", "rm -f $s && ln -s $evil $s"],
      ["bridge-dir", `mv $d ${privTmp.path}/old-bridge && mkdir $d && ln -s $evil $s`],
      ["private-dir", `mv $p ${privTmp.path}/old-private && mkdir -p $d && ln -s $evil $s`],
    ],
    box,
  );
  expect(r).toEqual({ stdout: "in-place-refused\nbridge-dir-refused\nprivate-dir-refused\necho:hi\n", evilConnections: 0 });
});

test("escape: with the whole disk writable, rebuilding the bridge's path elsewhere does not redirect it", async () => {
  const moved = `${privTmp.path}-moved`;
  try {
    const box = { ...sandbox(), permissions: { type: "managed", file_system: { type: "unrestricted" }, network: "restricted" } };
    // Only the test's temp dir is renamed (its parent, /tmp, is the host's: the mask cannot cover a rename above it).
    const r = await trySwaps([["temp-dir", `mv ${privTmp.path} ${moved} && mkdir -p $d && ln -s $evil $s`]], box);
    expect(r).toEqual({ stdout: "temp-dir-swapped\necho:hi\n", evilConnections: 0 });
  } finally {
    rmSync(moved, { recursive: true, force: true });
  }
});
