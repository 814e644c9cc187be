/**
 * One stream's bytes cut into lines at `\n`, across chunk boundaries. A line
 * is cut at `maxBytes`: it is complete as soon as it reaches the cap (so a
 * stream without newlines is still looked at), and what follows up to its
 * `\n` is dropped. Bytes are held only for the unfinished line (≤ maxBytes).
 */
export type LineSink = (line: Uint8Array) => boolean;

export class LineSplitter {
  private parts: Uint8Array[] = [];
  private length = 0;
  /** The current line reached the cap: drop bytes until its newline. */
  private skipping = false;

  constructor(private readonly maxBytes: number) {}

  /** Calls `sink` with each line `bytes` completes (lent: valid during the call); stops at the first call that returns true. */
  push(bytes: Uint8Array, sink: LineSink): boolean {
    let pos = 0;
    while (pos < bytes.byteLength) {
      const nl = bytes.indexOf(10, pos);
      const end = nl === -1 ? bytes.byteLength : nl;
      if (!this.skipping && this.take(bytes.subarray(pos, end), nl !== -1, sink)) return true;
      if (nl === -1) break;
      this.skipping = false;
      pos = nl + 1;
    }
    return false;
  }

  /** The unfinished line, if any, as a last line (the stream ended). */
  flush(sink: LineSink): boolean {
    if (this.length === 0) return false;
    return sink(this.takeLine());
  }

  /** A piece of the current line; `ended`: its newline follows. True when the sink says stop. */
  private take(piece: Uint8Array, ended: boolean, sink: LineSink): boolean {
    const room = this.maxBytes - this.length;
    if (ended && piece.byteLength <= room) {
      if (this.length === 0) return sink(piece);
      this.keep(piece);
      return sink(this.takeLine());
    }
    if (piece.byteLength < room) {
      this.keep(piece);
      return false;
    }
    this.keep(piece.subarray(0, room));
    this.skipping = true;
    return sink(this.takeLine());
  }

  private keep(piece: Uint8Array): void {
    // The caller's buffer is lent: copy what outlives the call.
    this.parts.push(new Uint8Array(piece));
    this.length += piece.byteLength;
  }

  private takeLine(): Uint8Array {
    const line = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.length);
    this.parts = [];
    this.length = 0;
    return line;
  }
}
