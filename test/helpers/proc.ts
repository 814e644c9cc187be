/** Readings from /proc for tests that watch processes from outside (Linux). */
import { readFileSync, readdirSync } from "node:fs";

/** A numeric field of /proc/<pid>/status (kB for the Vm* fields) or /proc/<pid>/io (bytes). */
export function procField(pid: number, file: "status" | "io", field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+)`, "m").exec(readFileSync(`/proc/${pid}/${file}`, "utf8"));
  if (!m) throw new Error(`${field} missing in /proc/${pid}/${file}`);
  return Number(m[1]);
}

/** Resident memory of `pid`, in bytes. */
export function rssBytes(pid: number): number {
  return procField(pid, "status", "VmRSS") * 1024;
}

/** CPU time `pid` has used so far (user + system), in seconds. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // After the last ")": state is field 3, utime and stime fields 14 and 15, in clock ticks (100 per second on Linux).
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** The descendant of `root` running `name` (`/proc/<pid>/comm`): bytes it has written so far (wchar), or null if there is none. */
export function childWritten(root: number, name = "head"): number | null {
  const procs: { pid: string; ppid: string; comm: string }[] = [];
  for (const pid of readdirSync("/proc").filter((d) => /^[0-9]+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      // pid (comm) state ppid …: comm may hold spaces and parentheses, so read after the last ")".
      const ppid = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]!;
      procs.push({ pid, ppid, comm: stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")) });
    } catch {
      // Gone meanwhile.
    }
  }
  const mine = new Set([String(root)]);
  for (let n = 0; n !== mine.size; ) {
    n = mine.size;
    for (const p of procs) if (mine.has(p.ppid)) mine.add(p.pid);
  }
  const child = procs.find((p) => mine.has(p.pid) && p.comm === name);
  try {
    return child ? procField(Number(child.pid), "io", "wchar") : null;
  } catch {
    return null; // Exited meanwhile.
  }
}

/** Alive and not a zombie (an orphan may wait for init to reap it): a `kill -0` that a zombie cannot fool. */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}
