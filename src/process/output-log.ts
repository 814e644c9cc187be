/**
 * The retained output of one process: chunks in seq order, oldest evicted
 * once more than `capacityBytes` are held. Notifications are sent for every
 * chunk regardless; this window only serves `process/read`.
 */
import type { OutputStream } from "../protocol/messages/process.ts";

export type RetainedChunk = { seq: number; stream: OutputStream; bytes: Uint8Array };

export class OutputLog {
  private chunks: RetainedChunk[] = [];
  private head = 0;
  private bytes = 0;

  constructor(private readonly capacityBytes: number) {}

  append(chunk: RetainedChunk): void {
    this.chunks.push(chunk);
    this.bytes += chunk.bytes.byteLength;
    while (this.bytes > this.capacityBytes && this.chunks.length - this.head > 1) {
      this.bytes -= this.chunks[this.head]!.bytes.byteLength;
      this.chunks[this.head++] = undefined as never;
    }
    // Compact occasionally so evicted slots do not accumulate.
    if (this.head > 1024 && this.head * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
  }

  /** True if some retained chunk has `seq > afterSeq`. */
  hasAfter(afterSeq: number): boolean {
    const last = this.chunks[this.chunks.length - 1];
    return this.chunks.length > this.head && last !== undefined && last.seq > afterSeq;
  }

  /**
   * Chunks after `afterSeq`, oldest first. With a byte budget the first chunk is
   * always included; more are added while the total stays within the budget,
   * and collection stops once the total reaches it.
   */
  read(afterSeq: number, maxBytes: number | undefined): RetainedChunk[] {
    const out: RetainedChunk[] = [];
    let total = 0;
    for (let i = this.firstAfter(afterSeq); i < this.chunks.length; i++) {
      const c = this.chunks[i]!;
      if (maxBytes !== undefined && out.length > 0 && total + c.bytes.byteLength > maxBytes) break;
      out.push(c);
      total += c.bytes.byteLength;
      if (maxBytes !== undefined && total >= maxBytes) break;
    }
    return out;
  }

  private firstAfter(afterSeq: number): number {
    let lo = this.head;
    let hi = this.chunks.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.chunks[mid]!.seq > afterSeq) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}
