/**
 * What a process has said, in order: one seq counter shared by output chunks,
 * `exited` and `closed`, and the retained output `process/read` serves (an
 * `OutputLog`). Pure bookkeeping: no child, no sink, no timers.
 */
import type { OutputStream } from "../protocol/messages/process.ts";
import { OutputLog, type RetainedChunk } from "./output-log.ts";

export class ProcessRecord {
  private seq = 1;
  private readonly log: OutputLog;
  private exitSeq: number | null = null;
  private closedSeq: number | null = null;
  exitCode: number | null = null;

  constructor(
    private readonly retainedOutputBytes: number,
    private readonly maxChunkBytes: number,
  ) {
    this.log = new OutputLog(retainedOutputBytes, maxChunkBytes);
  }

  get running(): boolean {
    return this.exitSeq === null;
  }
  get closed(): boolean {
    return this.closedSeq !== null;
  }
  /** The seq the next event gets. */
  get nextSeq(): number {
    return this.seq;
  }
  /** Bytes that can be retained before the oldest output is evicted. */
  get freeBytes(): number {
    return this.log.freeBytes;
  }
  /** Output bytes held for `process/read` now (in memory or in its spill file). */
  get retainedBytes(): number {
    return this.retainedOutputBytes - this.log.freeBytes;
  }

  /** Retains `bytes` as chunks of at most `maxChunkBytes`, each with the next seq; `each` sees every piece (lent). */
  appendOutput(stream: OutputStream, bytes: Uint8Array, each: (seq: number, piece: Uint8Array) => void): void {
    const max = this.maxChunkBytes;
    for (let off = 0; off < bytes.byteLength; off += max) {
      const piece = bytes.subarray(off, Math.min(off + max, bytes.byteLength));
      const seq = this.seq++;
      this.log.append({ seq, stream, bytes: piece });
      each(seq, piece);
    }
  }

  /** Records the exit; returns its seq. */
  exited(code: number): number {
    this.exitCode = code;
    this.exitSeq = this.seq++;
    return this.exitSeq;
  }

  /** Records the close; returns its seq. */
  close(): number {
    this.closedSeq = this.seq++;
    return this.closedSeq;
  }

  /** True when a read after `afterSeq` has something new to report. */
  hasNews(afterSeq: number): boolean {
    return this.closed || this.log.hasAfter(afterSeq) || (this.exitSeq !== null && this.exitSeq > afterSeq);
  }

  /** Whether some retained chunk is newer than `seq`. */
  hasOutputAfter(seq: number): boolean {
    return this.log.hasAfter(seq);
  }

  /** Retained chunks after `afterSeq` within the byte budget (see OutputLog.read); valid until the next append. */
  read(afterSeq: number, maxBytes: number | undefined): RetainedChunk[] {
    return this.log.read(afterSeq, maxBytes);
  }

  /** The newest retained output as lossy UTF-8, up to about `maxBytes`. */
  recentText(maxBytes: number): string {
    return this.log.recentText(maxBytes);
  }

  /** Retention is over: frees the retained output (and any spill file). */
  forget(): void {
    this.log.close();
  }
}
