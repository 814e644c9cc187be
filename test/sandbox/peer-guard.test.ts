/** The peer guard on real loopback connections: whose socket is at the other end. */
import { afterEach, expect, test } from "bun:test";
import { type Endpoint, classifyPeer, peerSocketInode, trackSandboxRoot } from "../../src/sandbox/peer-guard.ts";

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
    const inode = peerSocketInode(conn.local, conn.remote);
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

test("a peer inside a tracked sandbox tree is `sandboxed`; outside every tree, or with no trees, it is `outside`", async () => {
  using conn = await loopbackConnection("127.0.0.1");
  expect(classifyPeer(conn.local, conn.remote)).toEqual({ kind: "outside" });
  // A live tree that does not hold the socket.
  await using sleeper = Bun.spawn(["sleep", "30"]);
  untrack.push(trackSandboxRoot(sleeper.pid));
  expect(classifyPeer(conn.local, conn.remote)).toEqual({ kind: "outside" });
  // This process holds the client end: as a tracked root, its connections are a sandbox's.
  untrack.push(trackSandboxRoot(process.pid));
  expect(classifyPeer(conn.local, conn.remote)).toEqual({ kind: "sandboxed" });
});

test("a peer on another host (no local socket with those ends) is `outside` without a scan", () => {
  untrack.push(trackSandboxRoot(process.pid));
  expect(peerSocketInode({ address: "127.0.0.1", port: 1 }, { address: "192.0.2.7", port: 40000 })).toBeNull();
  expect(classifyPeer({ address: "127.0.0.1", port: 1 }, { address: "192.0.2.7", port: 40000 })).toEqual({ kind: "outside" });
});
