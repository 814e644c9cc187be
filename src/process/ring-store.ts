/**
 * Where an `OutputLog` keeps its bytes: a `Uint8Array`, or — once a process
 * retains more than `SPILL_THRESHOLD_BYTES` — an unlinked temp file read and
 * written at offsets. The file's pages live in the kernel's page cache, which
 * the kernel can write back and reclaim; the server's own memory stays at the
 * threshold per process however large the retention window is. Small outputs
 * (nearly every command) never touch the disk.
 */
import { closeSync, openSync, readSync, unlinkSync, writeSync, constants } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { releaseBuffer } from "../protocol/frame-memory.ts";

/**
 * Retained output above this spills to a file. The reference keeps ~1 MiB per
 * process in memory; so does execbox — the rest of its larger window (kept so
 * a reconnecting client loses nothing in flight) is on disk.
 */
export const SPILL_THRESHOLD_BYTES = 1024 * 1024;

export interface RingStore {
  readonly size: number;
  /** Copies `bytes` to offset `at`; throws if the store cannot take them (the log then moves to memory). */
  write(bytes: Uint8Array, at: number): void;
  /** `length` bytes at `at`: a view (memory) or a copy (file); use before the next write. */
  read(at: number, length: number): Uint8Array;
  close(): void;
}

export class MemoryStore implements RingStore {
  private readonly bytes: Uint8Array;

  constructor(readonly size: number) {
    this.bytes = new Uint8Array(size);
  }

  write(bytes: Uint8Array, at: number): void {
    this.bytes.set(bytes, at);
  }

  read(at: number, length: number): Uint8Array {
    return this.bytes.subarray(at, at + length);
  }

  /** Frees the bytes now rather than at a later collection (they are nearly always a MiB, left behind by a spill). */
  close(): void {
    releaseBuffer(this.bytes);
  }
}

/**
 * Writes to a spill file are gathered into batches this big: a write per
 * 64 KiB chunk cost ~50 µs in the kernel (measured: a third of the server's
 * CPU while streaming); per MiB it is noise.
 */
export const SPILL_WRITE_BATCH_BYTES = 1024 * 1024;

export class FileStore implements RingStore {
  private fd: number | null;
  /** Bytes not yet written, for file offsets [batchAt, batchAt + batchLength). */
  private readonly batch = new Uint8Array(SPILL_WRITE_BATCH_BYTES);
  private batchAt = 0;
  private batchLength = 0;

  private constructor(
    fd: number,
    readonly size: number,
  ) {
    this.fd = fd;
  }

  /** A spill file of `size` bytes in the temp dir, or null if one cannot be made there. */
  static create(size: number, dir = tmpdir()): FileStore | null {
    const path = join(dir, `execbox-output-${crypto.randomUUID()}`);
    let fd: number;
    try {
      // Created exclusively and private, then unlinked: only this fd reaches it, and it is gone when closed.
      fd = openSync(path, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL, 0o600);
    } catch {
      return null;
    }
    try {
      unlinkSync(path);
    } catch {
      closeSync(fd);
      return null;
    }
    return new FileStore(fd, size);
  }

  /**
   * Chunks land at consecutive offsets until the ring wraps, so they are
   * gathered while they continue the batch and fit in it. A live chunk is
   * never overwritten, so one that is read is either all in the batch or all
   * in the file.
   */
  write(bytes: Uint8Array, at: number): void {
    const n = bytes.byteLength;
    if (at !== this.batchAt + this.batchLength || this.batchLength + n > this.batch.byteLength) {
      this.flush();
      this.batchAt = at;
    }
    if (n > this.batch.byteLength) return this.writeAt(bytes, at);
    this.batch.set(bytes, this.batchLength);
    this.batchLength += n;
  }

  read(at: number, length: number): Uint8Array {
    const from = at - this.batchAt;
    if (from >= 0 && from + length <= this.batchLength) return this.batch.subarray(from, from + length);
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const n = readSync(this.descriptor(), out, done, length - done, at + done);
      if (n <= 0) throw new Error("spilled output file is shorter than written");
      done += n;
    }
    return out;
  }

  /** Writes the batch; on failure it stays (and readable) and the error propagates. */
  private flush(): void {
    if (this.batchLength === 0) return;
    this.writeAt(this.batch.subarray(0, this.batchLength), this.batchAt);
    this.batchAt += this.batchLength;
    this.batchLength = 0;
  }

  private writeAt(bytes: Uint8Array, at: number): void {
    let done = 0;
    while (done < bytes.byteLength) done += writeSync(this.descriptor(), bytes, done, bytes.byteLength - done, at + done);
  }

  close(): void {
    if (this.fd === null) return;
    closeSync(this.fd);
    this.fd = null;
  }

  private descriptor(): number {
    if (this.fd === null) throw new Error("spilled output file already closed");
    return this.fd;
  }
}
