/**
 * Who holds a TCP socket, read from /proc: the socket at the other end of a
 * connection (/proc/net/tcp{,6}), each process's parent, and the sockets a
 * process holds (/proc/<pid>/fd). Linux only; every read is asynchronous so
 * a scan never stalls the event loop.
 */
import { readFile, readdir, readlink } from "node:fs/promises";

export type Endpoint = { address: string; port: number };
export type TcpTables = { v4: string; v6: string };

/** Reads of /proc issued at once; keeps a scan from flooding the runtime's I/O pool. */
const PROC_READ_BATCH = 64;

export async function readTcpTables(proc: string): Promise<TcpTables> {
  const read = (name: string) => readFile(`${proc}/net/${name}`, "latin1").catch(() => "");
  const [v4, v6] = await Promise.all([read("tcp"), read("tcp6")]);
  return { v4, v6 };
}

/** The inode of the socket whose local end is `remote` and remote end `local` (ours), or null if it is not in these tables. */
export function findPeerInode(tables: TcpTables, local: Endpoint, remote: Endpoint): number | null {
  const wantLocal = procEndpoint(remote);
  const wantRemote = procEndpoint(local);
  if (!wantLocal || !wantRemote) return null;
  const search: [string, "v4" | "v6"][] = wantLocal.v4 && wantRemote.v4 ? [[tables.v4, "v4"], [tables.v6, "v6"]] : [[tables.v6, "v6"]];
  for (const [text, form] of search) {
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length >= 10 && f[1] === wantLocal[form] && f[2] === wantRemote[form]) return Number(f[9]);
    }
  }
  return null;
}

/** Every live process and its parent. */
export async function readParents(proc: string): Promise<Map<number, number>> {
  const pids = (await readdir(proc)).map(Number).filter((n) => Number.isInteger(n) && n > 0);
  const parents = new Map<number, number>();
  await inBatches(pids, async (pid) => {
    const ppid = await readFile(`${proc}/${pid}/stat`, "latin1").then(parentFromStat, () => null);
    if (ppid !== null) parents.set(pid, ppid);
  });
  return parents;
}

function parentFromStat(stat: string): number {
  // The command name may hold spaces and parentheses: fields resume after the last ')'.
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
}

/** The `socket:[inode]` links a process holds; "gone" if it exited, "denied" if its table cannot be read. */
export async function socketLinks(proc: string, pid: number): Promise<string[] | "gone" | "denied"> {
  let fds: string[];
  try {
    fds = await readdir(`${proc}/${pid}/fd`);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "ENOENT" ? "gone" : "denied";
  }
  const links: string[] = [];
  await inBatches(fds, async (fd) => {
    const link = await readlink(`${proc}/${pid}/fd/${fd}`).catch(() => "");
    if (link.startsWith("socket:")) links.push(link);
  });
  return links;
}

export async function inBatches<T>(items: T[], each: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += PROC_READ_BATCH) await Promise.all(items.slice(i, i + PROC_READ_BATCH).map(each));
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
