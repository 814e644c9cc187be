/**
 * Per-direction transport record ciphers (remote.md §5.6, §5.7): AES-256-GCM,
 * implicit nonces from 0, empty associated data. A record's `seq` on the
 * relay is the nonce it consumed; each record is sealed exactly once, never
 * re-encrypted to retry (that would desynchronize the nonces).
 */
import { EMPTY_AD, aesGcmOpen, aesGcmSeal } from "./aead.ts";
import { NoiseError } from "./errors.ts";
import { MAX_RECORDS_PER_DIRECTION, MAX_RECORD_PLAINTEXT_BYTES } from "./limits.ts";

/** One transport ciphertext and the `seq` (= nonce) it goes out with. */
export type SealedRecord = { readonly seq: number; readonly ciphertext: Uint8Array };

export class RecordSealer {
  private nextSeq = 0;

  /** `key` is secret: this side's send key from the handshake. */
  constructor(private readonly key: Uint8Array) {}

  seal(plaintext: Uint8Array): SealedRecord {
    if (plaintext.length > MAX_RECORD_PLAINTEXT_BYTES) {
      throw new NoiseError("limit", `record plaintext is ${plaintext.length} bytes; at most ${MAX_RECORD_PLAINTEXT_BYTES} are allowed`);
    }
    if (this.nextSeq >= MAX_RECORDS_PER_DIRECTION) {
      throw new NoiseError("limit", `this stream has sent ${MAX_RECORDS_PER_DIRECTION} records, the most one direction may`);
    }
    const seq = this.nextSeq++;
    return { seq, ciphertext: aesGcmSeal(this.key, seq, EMPTY_AD, plaintext) };
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
