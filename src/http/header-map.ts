/**
 * Headers ordered the way the reference's client (Rust `http::HeaderMap`)
 * orders them, since that order is what goes on the wire and what a client
 * reads back: one entry per lower-cased name in first-seen order, repeats
 * kept as separate values under it, and removal by swap-remove (the last
 * entry takes the removed one's place — probed on 0.171.0, where decoding a
 * gzip body turns `content-encoding, content-length, x-after, connection`
 * into `connection, x-after`).
 */
export class HeaderMap {
  private readonly entries: { name: string; values: string[] }[] = [];

  /** Adds a value after any existing ones for that name. */
  append(name: string, value: string): void {
    const key = name.toLowerCase();
    const entry = this.entries.find((e) => e.name === key);
    if (entry) entry.values.push(value);
    else this.entries.push({ name: key, values: [value] });
  }

  /** Replaces every value of `name` with one, in place; appends when absent. */
  insert(name: string, value: string): void {
    const entry = this.entries.find((e) => e.name === name.toLowerCase());
    if (entry) entry.values = [value];
    else this.append(name, value);
  }

  has(name: string): boolean {
    return this.entries.some((e) => e.name === name.toLowerCase());
  }

  /** The first value of `name`. */
  get(name: string): string | undefined {
    return this.entries.find((e) => e.name === name.toLowerCase())?.values[0];
  }

  getAll(name: string): string[] {
    return this.entries.find((e) => e.name === name.toLowerCase())?.values ?? [];
  }

  /** Swap-remove, as `HeaderMap::remove` does: the last entry moves into the gap. */
  remove(name: string): void {
    const at = this.entries.findIndex((e) => e.name === name.toLowerCase());
    if (at < 0) return;
    const last = this.entries.pop()!;
    if (at < this.entries.length) this.entries[at] = last;
  }

  /** Every (name, value) pair, grouped by name. */
  pairs(): [string, string][] {
    return this.entries.flatMap((e) => e.values.map((v): [string, string] => [e.name, v]));
  }

  clone(): HeaderMap {
    const copy = new HeaderMap();
    for (const [n, v] of this.pairs()) copy.append(n, v);
    return copy;
  }
}
