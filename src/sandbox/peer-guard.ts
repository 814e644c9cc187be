/**
 * Keeps sandboxed commands off the executor itself. A command whose sandbox
 * leaves the network open shares the host's network namespace, so it can
 * reach the executor's own TCP listener; on loopback that needs no token by
 * default, and one `process/start` later it would run unsandboxed. This is
 * the one place that decides whether a TCP peer is such a command:
 *
 *   1. find the peer's socket: the entry in /proc/net/tcp{,6} whose local end
 *      is the connection's remote end and whose remote end is ours (none: the
 *      peer is on another host or in another network namespace — a sandbox
 *      with a cut network cannot reach us at all);
 *   2. find who holds that socket: the peer is admitted only if a process
 *      outside every live sandbox's tree holds it and none inside does (each
 *      bwrap sandbox has its own PID namespace and dies with its root, so its
 *      processes stay in the tree).
 *
 * Fail closed: if no outside holder is seen — the socket was passed around
 * or sits in flight in a Unix socket while we look, a sandbox's descriptor
 * table cannot be read, or the host is too big to scan in bounded time —
 * the peer is refused. The scan is asynchronous and one scan answers every
 * connection that arrived before it began, so a flood of connections from a
 * sandbox costs one scan at a time and never stalls the event loop. Landlock sandboxes have no PID namespace (a daemonized process
 * leaves the tree), so an open-network Landlock sandbox is refused while an
 * unauthenticated TCP listener is up (see `landlockNetworkRefusal`).
 */
import { type Endpoint, findPeerInode, readParents, readTcpTables, socketLinks } from "./proc-sockets.ts";

export type { Endpoint } from "./proc-sockets.ts";

/**
 * Processes looked at per check; a host with more is not scanned and the
 * connection is refused while sandboxes run (bounded work per check).
 */
export const MAX_SCANNED_PROCESSES = 32_768;
/** Descriptors read per check, across every process; beyond it the connection is refused. */
export const MAX_SCANNED_DESCRIPTORS = 1 << 20;

export type PeerVerdict = { kind: "outside" } | { kind: "sandboxed" } | { kind: "unverifiable"; why: string };

/** Pids of live sandbox roots (the wrapper we spawned: bwrap, or the Landlock stage). */
const sandboxRoots = new Set<number>();
/** Ports this executor listens on; a managed-network sandbox may not be bridged to them. */
const listeningPorts = new Set<number>();
let unauthenticatedTcp = false;

/** Called when a sandboxed child is spawned; the returned function is called once it has closed. */
export function trackSandboxRoot(pid: number): () => void {
  sandboxRoots.add(pid);
  return () => sandboxRoots.delete(pid);
}

/** Called by the WebSocket listener: its port, and whether it admits peers without credentials. */
export function noteListener(port: number, authenticated: boolean): void {
  listeningPorts.add(port);
  if (!authenticated) unauthenticatedTcp = true;
}

export function isExecutorPort(port: number): boolean {
  return listeningPorts.has(port);
}

/**
 * Why an open-network Landlock sandbox cannot be allowed here, or null. Without
 * a PID namespace a command can daemonize out of its tree, outlive it, and
 * then reach an unauthenticated listener; with `--ws-auth` it lacks the token
 * (token files are masked from every sandbox).
 */
export function landlockNetworkRefusal(): string | null {
  return unauthenticatedTcp
    ? "an open network under Landlock could reach this executor's unauthenticated listener (no PID namespace to contain the command); use bubblewrap, --ws-auth, or a restricted network"
    : null;
}

/** Decides synchronously when no sandbox is running (nothing to check); otherwise joins the next scan. */
export function classifyPeer(local: Endpoint, remote: Endpoint, proc = "/proc"): PeerVerdict | Promise<PeerVerdict> {
  if (sandboxRoots.size === 0) return OUTSIDE;
  const { promise, resolve } = Promise.withResolvers<PeerVerdict>();
  waiting.push({ local, remote, resolve });
  if (!scanning) void drain(proc);
  return promise;
}

const OUTSIDE: PeerVerdict = { kind: "outside" };
type Waiting = { local: Endpoint; remote: Endpoint; resolve: (v: PeerVerdict) => void };
const waiting: Waiting[] = [];
let scanning = false;

/** Scans until no connection waits; `scanning` drops in the same turn the queue is seen empty, so none is stranded. */
async function drain(proc: string): Promise<void> {
  scanning = true;
  try {
    while (waiting.length > 0) {
      const batch = waiting.splice(0);
      try {
        const verdicts = await scan(batch, proc);
        batch.forEach((w, i) => w.resolve(verdicts[i]!));
      } catch (e) {
        for (const w of batch) w.resolve({ kind: "unverifiable", why: `cannot read /proc: ${(e as Error).message}` });
      }
    }
  } finally {
    scanning = false;
  }
}

/** One pass over /proc for every waiting connection. */
async function scan(batch: Waiting[], proc: string): Promise<PeerVerdict[]> {
  const tables = await readTcpTables(proc);
  const links = batch.map((w) => {
    const inode = findPeerInode(tables, w.local, w.remote);
    return inode === null ? null : `socket:[${inode}]`;
  });
  const wanted = new Set(links.filter((l): l is string => l !== null));
  if (wanted.size === 0) return batch.map(() => OUTSIDE);
  const parents = await readParents(proc);
  if (parents.size > MAX_SCANNED_PROCESSES) return batch.map(() => unverifiable("too many processes on this host to check"));
  const inSandbox = sandboxMembership(parents);
  const heldInside = new Set<string>();
  const heldOutside = new Set<string>();
  let descriptors = 0;
  // Sandboxes first: an unreadable table there refuses everyone; outside, it only means "not seen".
  const order = [...parents.keys()].sort((a, b) => Number(inSandbox(b)) - Number(inSandbox(a)));
  for (const pid of order) {
    const inside = inSandbox(pid);
    if (!inside && [...wanted].every((l) => heldOutside.has(l) || heldInside.has(l))) break;
    const held = await socketLinks(proc, pid);
    if (held === "denied" && inside) return batch.map(() => unverifiable(`cannot read the descriptors of sandboxed process ${pid}`));
    if (typeof held === "string") continue;
    descriptors += held.length;
    if (descriptors > MAX_SCANNED_DESCRIPTORS) return batch.map(() => unverifiable("too many descriptors on this host to check"));
    for (const l of held) if (wanted.has(l)) (inside ? heldInside : heldOutside).add(l);
  }
  return links.map((l) => {
    if (l === null) return OUTSIDE;
    if (heldInside.has(l)) return { kind: "sandboxed" };
    return heldOutside.has(l) ? OUTSIDE : unverifiable("no process outside a sandbox holds the connection");
  });
}

const unverifiable = (why: string): PeerVerdict => ({ kind: "unverifiable", why });

/** Whether a pid's ancestry reaches a live sandbox root (the roots included), memoized over one scan. */
function sandboxMembership(parents: Map<number, number>): (pid: number) => boolean {
  const known = new Map<number, boolean>();
  return (pid) => {
    const chain: number[] = [];
    let cur: number | undefined = pid;
    let verdict = false;
    while (cur !== undefined && cur > 0) {
      const memo = known.get(cur);
      if (memo !== undefined) {
        verdict = memo;
        break;
      }
      if (sandboxRoots.has(cur)) {
        verdict = true;
        break;
      }
      chain.push(cur);
      cur = parents.get(cur);
    }
    for (const p of chain) known.set(p, verdict);
    return verdict;
  };
}
