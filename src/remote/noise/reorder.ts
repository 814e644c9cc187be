/**
 * Receive-side ordering of a stream's `data` frames (remote.md §5.7): holds
 * out-of-order ciphertexts and releases the contiguous run from `next_seq`.
 * Older and duplicate seqs are dropped silently (the first copy wins); a seq
 * too far ahead, or too much held, is a stream error.
 */
import { NoiseError } from "./errors.ts";
import {
  MAX_BUFFERED_CIPHERTEXT_BYTES,
  MAX_BUFFERED_RECORDS,
  MAX_NOISE_MESSAGE_BYTES,
  MAX_RECORDS_PER_DIRECTION,
  REORDER_WINDOW,
  TAG_BYTES,
} from "./limits.ts";

export class ReorderWindow {
  private nextSeq = 0;
  private readonly held = new Map<number, Uint8Array>();
  private heldBytes = 0;

  /** The seq the stream waits for. */
  get expected(): number {
    return this.nextSeq;
  }

  /**
   * Accepts one record (lent: it is copied if held); returns the ciphertexts
   * now in order (possibly none), to be opened before the caller returns.
   */
  accept(seq: number, ciphertext: Uint8Array): Uint8Array[] {
    checkRecord(seq, ciphertext);
    if (seq < this.nextSeq || this.held.has(seq)) return [];
    if (seq - this.nextSeq > REORDER_WINDOW) {
      throw new NoiseError("limit", `record seq ${seq} is more than ${REORDER_WINDOW} ahead of the expected seq ${this.nextSeq}`);
    }
    if (seq !== this.nextSeq) {
      this.hold(seq, ciphertext);
      return [];
    }
    const released = [ciphertext];
    this.nextSeq++;
    for (let next = this.held.get(this.nextSeq); next !== undefined; next = this.held.get(this.nextSeq)) {
      this.held.delete(this.nextSeq);
      this.heldBytes -= next.length;
      released.push(next);
      this.nextSeq++;
    }
    return released;
  }

  private hold(seq: number, ciphertext: Uint8Array): void {
    if (this.held.size >= MAX_BUFFERED_RECORDS) {
      throw new NoiseError("limit", `more than ${MAX_BUFFERED_RECORDS} records would wait out of order (expected seq ${this.nextSeq})`);
    }
    if (this.heldBytes + ciphertext.length > MAX_BUFFERED_CIPHERTEXT_BYTES) {
      throw new NoiseError(
        "limit",
        `more than ${MAX_BUFFERED_CIPHERTEXT_BYTES} bytes of ciphertext would wait out of order (expected seq ${this.nextSeq})`,
      );
    }
    // A copy: the ciphertext is lent by the relay frame it came in (a view of the socket's read buffer).
    this.held.set(seq, ciphertext.slice());
    this.heldBytes += ciphertext.length;
  }
}

function checkRecord(seq: number, ciphertext: Uint8Array): void {
  if (!Number.isInteger(seq) || seq < 0 || seq >= MAX_RECORDS_PER_DIRECTION) {
    throw new NoiseError("limit", `record seq ${seq} is outside 0..${MAX_RECORDS_PER_DIRECTION - 1}`);
  }
  if (ciphertext.length < TAG_BYTES || ciphertext.length > MAX_NOISE_MESSAGE_BYTES) {
    throw new NoiseError("limit", `record ciphertext is ${ciphertext.length} bytes; it must be ${TAG_BYTES} to ${MAX_NOISE_MESSAGE_BYTES}`);
  }
}
