/**
 * Per-direction transport record ciphers (remote.md §5.6, §5.7): AES-256-GCM,
 * implicit nonces from 0, empty associated data. A record's `seq` on the
 * relay is the nonce it consumed; each record is sealed exactly once, never
 * re-encrypted to retry (that would desynchronize the nonces).
 */
import { concatBytes } from "@noble/hashes/utils.js";
import { EMPTY_AD, aesGcmOpen, aesGcmSealParts } from "./aead.ts";
import { NoiseError } from "./errors.ts";
import { MAX_RECORDS_PER_DIRECTION, MAX_RECORD_PLAINTEXT_BYTES } from "./limits.ts";

/**
 * One transport ciphertext and the `seq` (= nonce) it goes out with. The
 * ciphertext is kept in the pieces the cipher returned (`parts`: ciphertext,
 * then tag), so the relay can write them straight into its frame; `ciphertext`
 * joins them (a copy) for callers that want one buffer.
 */
export class SealedRecord {
  readonly byteLength: number;

  constructor(
    readonly seq: number,
    readonly parts: readonly Uint8Array[],
  ) {
    let n = 0;
    for (const p of parts) n += p.byteLength;
    this.byteLength = n;
  }

  get ciphertext(): Uint8Array {
    return this.parts.length === 1 ? this.parts[0]! : concatBytes(...this.parts);
  }
}

export class RecordSealer {
  private nextSeq = 0;

  /** `key` is secret: this side's send key from the handshake. */
  constructor(private readonly key: Uint8Array) {}

  /** Seals one record from `plaintext`, given whole or in pieces (sealed as their concatenation). */
  seal(plaintext: Uint8Array | readonly Uint8Array[]): SealedRecord {
    const pieces = plaintext instanceof Uint8Array ? [plaintext] : plaintext;
    let length = 0;
    for (const p of pieces) length += p.byteLength;
    if (length > MAX_RECORD_PLAINTEXT_BYTES) {
      throw new NoiseError("limit", `record plaintext is ${length} bytes; at most ${MAX_RECORD_PLAINTEXT_BYTES} are allowed`);
    }
    if (this.nextSeq >= MAX_RECORDS_PER_DIRECTION) {
      throw new NoiseError("limit", `this stream has sent ${MAX_RECORDS_PER_DIRECTION} records, the most one direction may`);
    }
    const seq = this.nextSeq++;
    return new SealedRecord(seq, aesGcmSealParts(this.key, seq, EMPTY_AD, pieces));
  }
}

/** Opens records strictly in nonce order; the reorder window puts them in that order first. */
export class RecordOpener {
  private nextNonce = 0;

  /** `key` is secret: this side's receive key from the handshake. */
  constructor(private readonly key: Uint8Array) {}

  open(ciphertext: Uint8Array): Uint8Array {
    const plaintext = aesGcmOpen(this.key, this.nextNonce, EMPTY_AD, ciphertext);
    this.nextNonce++;
    return plaintext;
  }
}
