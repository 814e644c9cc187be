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
 *   2. look for its inode among the descriptors of every process in a live
 *      sandbox's tree (each bwrap sandbox has its own PID namespace and dies
 *      with its root, so its processes stay in the tree).
 *
 * Fail closed: a tree too big to scan in bounded time, a descriptor table we
 * may not read, or a tree still changing after a few rescans means the peer
 * is refused. Landlock sandboxes have no PID namespace (a daemonized process
 * leaves the tree), so an open-network Landlock sandbox is refused while an
 * unauthenticated TCP listener is up (see `landlockNetworkRefusal`).
 */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

/** A tree bigger than this is not scanned: the connection is refused instead (bounded work per accept). */
export const MAX_SCANNED_PROCESSES = 4096;
/** Descriptors read per accept, across the tree; beyond it the connection is refused. */
export const MAX_SCANNED_DESCRIPTORS = 65_536;
/** Rescans for processes forked while we looked; a tree still growing after these is refused. */
const MAX_RESCANS = 4;

export type Endpoint = { address: string; port: number };
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

export function classifyPeer(local: Endpoint, remote: Endpoint, proc = "/proc"): PeerVerdict {
  if (sandboxRoots.size === 0) return { kind: "outside" };
  const inode = peerSocketInode(local, remote, proc);
  if (inode === null) return { kind: "outside" };
  return searchSandboxTrees(`socket:[${inode}]`, proc);
}

function searchSandboxTrees(link: string, proc: string): PeerVerdict {
  const scanned = new Set<number>();
  let descriptors = 0;
  for (let round = 0; round <= MAX_RESCANS; round++) {
    const tree = sandboxTreePids(proc);
    if (tree.length > MAX_SCANNED_PROCESSES) return { kind: "unverifiable", why: "sandbox process tree too large to check" };
    const fresh = tree.filter((pid) => !scanned.has(pid));
    if (fresh.length === 0) return { kind: "outside" };
    for (const pid of fresh) {
      scanned.add(pid);
      let fds: string[];
      try {
        fds = readdirSync(`${proc}/${pid}/fd`);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") continue; // exited meanwhile
        return { kind: "unverifiable", why: `cannot read the descriptors of sandboxed process ${pid}` };
      }
      descriptors += fds.length;
      if (descriptors > MAX_SCANNED_DESCRIPTORS) return { kind: "unverifiable", why: "too many descriptors in sandboxes to check" };
      for (const fd of fds) {
        try {
          if (readlinkSync(`${proc}/${pid}/fd/${fd}`) === link) return { kind: "sandboxed" };
        } catch {
          // Closed meanwhile.
        }
      }
    }
  }
  return { kind: "unverifiable", why: "sandbox process tree kept changing while it was checked" };
}

/** Every live process whose ancestry reaches a sandbox root (the roots included). */
function sandboxTreePids(proc: string): number[] {
  const parentOf = new Map<number, number>();
  for (const name of readdirSync(proc)) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const ppid = readParentPid(proc, pid);
    if (ppid !== null) parentOf.set(pid, ppid);
  }
  const inTree = new Map<number, boolean>();
  const member = (pid: number): boolean => {
    const chain: number[] = [];
    let cur: number | undefined = pid;
    let verdict = false;
    while (cur !== undefined && cur > 0) {
      const known = inTree.get(cur);
      if (known !== undefined) {
        verdict = known;
        break;
      }
      if (sandboxRoots.has(cur)) {
        verdict = true;
        break;
      }
      chain.push(cur);
      cur = parentOf.get(cur);
    }
    for (const p of chain) inTree.set(p, verdict);
    return verdict;
  };
  return [...parentOf.keys()].filter(member);
}

function readParentPid(proc: string, pid: number): number | null {
  try {
    const stat = readFileSync(`${proc}/${pid}/stat`, "latin1");
    // The command name may hold spaces and parentheses: fields resume after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[1]);
  } catch {
    return null;
  }
}

/** The inode of the socket at the other end of our connection, if it lives in this network namespace. */
export function peerSocketInode(local: Endpoint, remote: Endpoint, proc = "/proc"): number | null {
  const wantLocal = procEndpoint(remote);
  const wantRemote = procEndpoint(local);
  if (!wantLocal || !wantRemote) return null;
  for (const table of wantLocal.v4 ? ["tcp", "tcp6"] : ["tcp6"]) {
    let text: string;
    try {
      text = readFileSync(`${proc}/net/${table}`, "latin1");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10) continue;
      const form = table === "tcp" ? "v4" : "v6";
      if (f[1] === wantLocal[form] && f[2] === wantRemote[form]) return Number(f[9]);
    }
  }
  return null;
}

/** An endpoint as /proc/net/tcp{,6} prints it: each 32-bit word of the address in host order, then the port. */
function procEndpoint({ address, port }: Endpoint): { v4?: string; v6: string } | null {
  const portHex = port.toString(16).toUpperCase().padStart(4, "0");
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  const v4text = mapped ? mapped[1]! : /^\d+\.\d+\.\d+\.\d+$/.test(address) ? address : null;
  if (v4text) {
    const bytes = v4text.split(".").map(Number);
    const v6bytes = [...new Array(10).fill(0), 0xff, 0xff, ...bytes];
    return { v4: `${words(bytes)}:${portHex}`, v6: `${words(v6bytes)}:${portHex}` };
  }
  const bytes = ipv6Bytes(address);
  return bytes ? { v6: `${words(bytes)}:${portHex}` } : null;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function words(bytes: number[]): string {
  let out = "";
  for (let i = 0; i < bytes.length; i += 4) {
    const word = bytes.slice(i, i + 4);
    if (LITTLE_ENDIAN) word.reverse();
    out += word.map((b) => b.toString(16).toUpperCase().padStart(2, "0")).join("");
  }
  return out;
}

function ipv6Bytes(address: string): number[] | null {
  const [head, tail] = address.split("::") as [string, string | undefined];
  const parse = (s: string | undefined) => (s ? s.split(":").map((h) => parseInt(h, 16)) : []);
  const left = parse(head);
  const right = parse(tail);
  const groups = tail === undefined ? left : [...left, ...new Array(8 - left.length - right.length).fill(0), ...right];
  if (groups.length !== 8 || groups.some((g) => !Number.isInteger(g) || g < 0 || g > 0xffff)) return null;
  return groups.flatMap((g) => [g >> 8, g & 0xff]);
}
