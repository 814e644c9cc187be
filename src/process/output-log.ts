/**
 * The retained output of one process: chunks in seq order, oldest evicted
 * once more than `capacityBytes` are held. Notifications are sent for every
 * chunk regardless; this window only serves `process/read`.
 *
 * The bytes are copied into one ring (grown on demand up to `capacity + 2 ×
 * maxChunk`, which always fits the capacity's worth of chunks), so the
 * caller's buffer is free as soon as `append` returns and a busy process costs
 * no allocation per chunk. A ring that would outgrow the spill threshold moves
 * to a temp file (`ring-store.ts`). Chunks that `read` returns may view the
 * ring: use them before the next `append`. `close` releases the ring.
 */
import type { OutputStream } from "../protocol/messages/process.ts";
import { FileStore, MemoryStore, type RingStore, SPILL_THRESHOLD_BYTES } from "./ring-store.ts";

export type RetainedChunk = { seq: number; stream: OutputStream; bytes: Uint8Array };

/** A retained chunk: `start` in the ring, or `own` bytes for a chunk larger than the capacity. */
type Entry = { seq: number; stream: OutputStream; start: number; length: number; own: Uint8Array | null };

const MIN_RING_BYTES = 16 * 1024;

export class OutputLog {
  private entries: Entry[] = [];
  private head = 0;
  private bytes = 0;
  private ring: RingStore = new MemoryStore(0);
  /** Where the next chunk goes in the ring. */
  private tail = 0;
  private readonly maxRingBytes: number;

  constructor(
    private readonly capacityBytes: number,
    maxChunkBytes = capacityBytes,
    private readonly spillAtBytes = SPILL_THRESHOLD_BYTES,
  ) {
    this.maxRingBytes = capacityBytes + 2 * Math.min(maxChunkBytes, capacityBytes);
  }

  append(chunk: RetainedChunk): void {
    const n = chunk.bytes.byteLength;
    // The new chunk always stays; older ones go while the total would exceed the capacity.
    while (this.head < this.entries.length && this.bytes + n > this.capacityBytes) this.evict();
    let entry: Entry;
    if (n > this.capacityBytes) {
      entry = { seq: chunk.seq, stream: chunk.stream, start: 0, length: n, own: new Uint8Array(chunk.bytes) };
    } else {
      let start = this.place(n);
      try {
        this.ring.write(chunk.bytes, start);
      } catch {
        // The spill file failed (disk full?): keep everything in memory from now on.
        this.moveTo(new MemoryStore(this.maxRingBytes));
        start = this.place(n);
        this.ring.write(chunk.bytes, start);
      }
      this.tail = start + n;
      entry = { seq: chunk.seq, stream: chunk.stream, start, length: n, own: null };
    }
    this.entries.push(entry);
    this.bytes += n;
    // Compact occasionally so evicted slots do not accumulate.
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
  }

  /** Bytes that can be appended before the oldest chunks start to be evicted. */
  get freeBytes(): number {
    return this.capacityBytes - this.bytes;
  }

  /** True if some retained chunk has `seq > afterSeq`. */
  hasAfter(afterSeq: number): boolean {
    const last = this.entries[this.entries.length - 1];
    return this.entries.length > this.head && last !== undefined && last.seq > afterSeq;
  }

  /**
   * Chunks after `afterSeq`, oldest first. With a byte budget the first chunk is
   * always included; more are added while the total stays within the budget,
   * and collection stops once the total reaches it.
   */
  read(afterSeq: number, maxBytes: number | undefined): RetainedChunk[] {
    const out: RetainedChunk[] = [];
    let total = 0;
    for (let i = this.firstAfter(afterSeq); i < this.entries.length; i++) {
      const e = this.entries[i]!;
      if (maxBytes !== undefined && out.length > 0 && total + e.length > maxBytes) break;
      out.push({ seq: e.seq, stream: e.stream, bytes: e.own ?? this.ring.read(e.start, e.length) });
      total += e.length;
      if (maxBytes !== undefined && total >= maxBytes) break;
    }
    return out;
  }

  private firstAfter(afterSeq: number): number {
    let lo = this.head;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.entries[mid]!.seq > afterSeq) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  private evict(): void {
    this.bytes -= this.entries[this.head]!.length;
    this.entries[this.head++] = undefined as never;
    if (this.head === this.entries.length) {
      this.entries.length = 0;
      this.head = 0;
      this.tail = 0;
    }
  }

  /** A ring offset with `n` free bytes: grows the ring while it may, else evicts the oldest. */
  private place(n: number): number {
    for (;;) {
      const at = this.freeSpan(n);
      if (at !== undefined) return at;
      if (this.ring.size < this.maxRingBytes) this.grow(n);
      else this.evict();
    }
  }

  private freeSpan(n: number): number | undefined {
    if (this.head === this.entries.length) return n <= this.ring.size ? 0 : undefined;
    const oldest = this.entries[this.head]!;
    // Only one oversize chunk can be retained, and it is evicted before any ring chunk is placed.
    const h = oldest.start;
    if (this.tail > h) {
      if (this.ring.size - this.tail >= n) return this.tail;
      return h >= n ? 0 : undefined;
    }
    return h - this.tail >= n ? this.tail : undefined;
  }

  /** A bigger ring: doubled in memory up to the spill threshold, then a file of the full size. */
  private grow(n: number): void {
    let size = Math.max(MIN_RING_BYTES, this.ring.size * 2);
    while (size < this.bytes + n) size *= 2;
    size = Math.min(size, this.maxRingBytes);
    // A window no larger than the threshold stays in memory even with its slack for whole chunks.
    const spill = size > this.spillAtBytes && this.capacityBytes > this.spillAtBytes;
    const spilled = spill ? FileStore.create(this.maxRingBytes) : null;
    this.moveTo(spilled ?? new MemoryStore(size));
  }

  /** Moves the live chunks to the start of `store`, in order, and makes it the ring. */
  private moveTo(store: RingStore): void {
    let at = 0;
    for (let i = this.head; i < this.entries.length; i++) {
      const e = this.entries[i]!;
      if (e.own) continue;
      store.write(this.ring.read(e.start, e.length), at);
      e.start = at;
      at += e.length;
    }
    this.ring.close();
    this.ring = store;
    this.tail = at;
  }

  /** The newest retained output, up to about `maxBytes`, as lossy UTF-8 (all streams, in seq order). */
  recentText(maxBytes: number): string {
    const decoder = new TextDecoder();
    const parts: string[] = [];
    let total = 0;
    for (let i = this.entries.length - 1; i >= this.head && total < maxBytes; i--) {
      const e = this.entries[i]!;
      parts.push(decoder.decode(e.own ?? this.ring.read(e.start, e.length)));
      total += e.length;
    }
    return parts.reverse().join("");
  }

  /** The process is gone: frees the ring (and closes a spill file). */
  close(): void {
    this.ring.close();
    this.ring = new MemoryStore(0);
    this.entries = [];
    this.head = 0;
    this.bytes = 0;
    this.tail = 0;
  }
}
