/** The peer guard on real loopback connections: whose socket is at the other end. */
import { afterEach, expect, test } from "bun:test";
import { type Endpoint, classifyPeer, trackSandboxRoot } from "../../src/sandbox/peer-guard.ts";
import { findPeerInode, readTcpTables } from "../../src/sandbox/proc-sockets.ts";

const peerSocketInode = async (local: Endpoint, remote: Endpoint) => findPeerInode(await readTcpTables("/proc"), local, remote);

const untrack: (() => void)[] = [];
afterEach(() => {
  for (const u of untrack.splice(0)) u();
});

/** Connects to ourselves on `hostname` and returns the server side's view of the connection. */
async function loopbackConnection(hostname: string): Promise<{ local: Endpoint; remote: Endpoint; [Symbol.dispose](): void }> {
  const { promise, resolve } = Promise.withResolvers<{ local: Endpoint; remote: Endpoint }>();
  const listener = Bun.listen({
    hostname,
    port: 0,
    socket: {
      open(s) {
        resolve({ local: { address: s.localAddress, port: s.localPort }, remote: { address: s.remoteAddress, port: s.remotePort } });
      },
      data() {},
    },
  });
  const client = await Bun.connect({ hostname, port: listener.port, socket: { data() {} } });
  const ends = await promise;
  return { ...ends, [Symbol.dispose]: () => (client.end(), listener.stop(true)) };
}

for (const hostname of ["127.0.0.1", "::1"]) {
  test(`${hostname}: the peer's socket is found in /proc/net and held by this process`, async () => {
    using conn = await loopbackConnection(hostname);
    const inode = await peerSocketInode(conn.local, conn.remote);
    expect(inode).toBeGreaterThan(0);
    const { readdirSync, readlinkSync } = await import("node:fs");
    const links = readdirSync("/proc/self/fd").map((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`);
      } catch {
        return "";
      }
    });
    expect(links).toContain(`socket:[${inode}]`);
  });
}

test("with no sandbox running the answer is immediate; a peer held outside every tree is `outside`, inside one `sandboxed`", async () => {
  using conn = await loopbackConnection("127.0.0.1");
  expect(classifyPeer(conn.local, conn.remote)).toEqual({ kind: "outside" });
  // A live tree that does not hold the socket: this process (outside it) does.
  await using sleeper = Bun.spawn(["sleep", "30"]);
  untrack.push(trackSandboxRoot(sleeper.pid));
  expect(await classifyPeer(conn.local, conn.remote)).toEqual({ kind: "outside" });
  // This process holds the client end: as a tracked root, its connections are a sandbox's.
  untrack.push(trackSandboxRoot(process.pid));
  expect(await classifyPeer(conn.local, conn.remote)).toEqual({ kind: "sandboxed" });
});

test("one scan answers every connection waiting for it, each by its own socket", async () => {
  await using sleeper = Bun.spawn(["sleep", "30"]);
  untrack.push(trackSandboxRoot(sleeper.pid));
  using a = await loopbackConnection("127.0.0.1");
  using b = await loopbackConnection("::1");
  const verdicts = await Promise.all([classifyPeer(a.local, a.remote), classifyPeer(b.local, b.remote), classifyPeer({ address: "127.0.0.1", port: 1 }, { address: "192.0.2.7", port: 40000 })]);
  expect(verdicts).toEqual([{ kind: "outside" }, { kind: "outside" }, { kind: "outside" }]);
});

test("a peer on another host (no local socket with those ends) is `outside`", async () => {
  untrack.push(trackSandboxRoot(process.pid));
  expect(await peerSocketInode({ address: "127.0.0.1", port: 1 }, { address: "192.0.2.7", port: 40000 })).toBeNull();
  expect(await classifyPeer({ address: "127.0.0.1", port: 1 }, { address: "192.0.2.7", port: 40000 })).toEqual({ kind: "outside" });
});
