/**
 * Bounds the TCP connections still in the HTTP phase (accepted, head not yet
 * answered): before any authentication, so each costs an attacker nothing.
 * Unbounded, 2,000 idle sockets held for the 10 s head timeout exhausted the
 * executor's file descriptors and broke every session.
 *
 * Over a cap the OLDEST such connection is closed to make room, not the new
 * one: a real client sends its head within a round trip of connecting, so it
 * gets through a flood of idle sockets, which would otherwise hold the cap
 * and refuse everyone for as long as the attacker keeps reopening them.
 */

/** Connections in the HTTP phase, from all sources; the oldest goes when another arrives. */
export const MAX_PENDING_UPGRADES = 128;
/**
 * Connections in the HTTP phase from one source (an IPv4 address, or an IPv6
 * /64, which one host usually holds whole): a client connects once, or a few
 * times while reconnecting, so 16 is ample; one source cannot take the whole
 * total cap from the others.
 */
export const MAX_PENDING_UPGRADES_PER_SOURCE = 16;

export class PendingUpgrades<S> {
  /** In arrival order (a Set iterates in insertion order), so the first is the oldest. */
  private readonly all = new Set<S>();
  private readonly bySource = new Map<string, Set<S>>();
  private readonly sourceOf = new Map<S, string>();

  /** Admits `conn` from address `ip`; returns the connections to close (oldest first) to stay within both caps. */
  admit(conn: S, ip: string): S[] {
    const source = sourceKey(ip);
    const evicted: S[] = [];
    const same = this.bySource.get(source);
    if (same && same.size >= MAX_PENDING_UPGRADES_PER_SOURCE) evicted.push(this.remove(first(same)));
    if (this.all.size >= MAX_PENDING_UPGRADES) evicted.push(this.remove(first(this.all)));
    this.all.add(conn);
    this.sourceOf.set(conn, source);
    const set = this.bySource.get(source) ?? new Set<S>();
    set.add(conn);
    this.bySource.set(source, set);
    return evicted;
  }

  /** `conn` left the HTTP phase (upgraded, or closed); idempotent. */
  done(conn: S): void {
    if (this.sourceOf.has(conn)) this.remove(conn);
  }

  get size(): number {
    return this.all.size;
  }

  private remove(conn: S): S {
    const source = this.sourceOf.get(conn)!;
    this.sourceOf.delete(conn);
    this.all.delete(conn);
    const set = this.bySource.get(source)!;
    set.delete(conn);
    if (set.size === 0) this.bySource.delete(source);
    return conn;
  }
}

function first<S>(set: Set<S>): S {
  return set.values().next().value as S;
}

/** An IPv4 address as is; an IPv6 address by its /64 prefix (an IPv4-mapped one as IPv4). */
export function sourceKey(ip: string): string {
  if (!ip.includes(":")) return ip;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1]!;
  const [head = "", tail = ""] = ip.toLowerCase().split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const groups = ip.includes("::") ? [...left, ...Array(8 - left.length - right.length).fill("0"), ...right] : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ""))
    .join(":")}::/64`;
}
