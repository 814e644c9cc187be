/**
 * Noise CipherState and SymmetricState (Noise spec §5.1, §5.2) for the
 * handshake. `EncryptAndHash` / `DecryptAndHash` use `h` as associated data
 * and pass plaintext through while no key is set.
 */
import { AEAD_KEY_BYTES, EMPTY_AD, aesGcmOpen, aesGcmSeal } from "./aead.ts";
import { type NoiseHash, hkdf } from "./hash.ts";

/** Noise truncates a HASHLEN-byte HKDF output to the 32-byte cipher key. */
const cipherKey = (output: Uint8Array) => output.slice(0, AEAD_KEY_BYTES);

/** Secret: the handshake's cipher key and nonce. */
class HandshakeCipher {
  private key: Uint8Array | null = null;
  private nonce = 0;

  hasKey(): boolean {
    return this.key !== null;
  }

  initializeKey(key: Uint8Array): void {
    this.key = cipherKey(key);
    this.nonce = 0;
  }

  encrypt(ad: Uint8Array, plaintext: Uint8Array): Uint8Array {
    if (!this.key) return plaintext.slice();
    return aesGcmSeal(this.key, this.nonce++, ad, plaintext);
  }

  decrypt(ad: Uint8Array, ciphertext: Uint8Array): Uint8Array {
    if (!this.key) return ciphertext.slice();
    const plaintext = aesGcmOpen(this.key, this.nonce, ad, ciphertext);
    // The nonce advances only on success, as the spec requires.
    this.nonce++;
    return plaintext;
  }
}

/** The two transport keys `Split()` yields; key 1 encrypts initiator→responder. Secret. */
export type SplitKeys = { readonly initiatorToResponder: Uint8Array; readonly responderToInitiator: Uint8Array };

export class SymmetricState {
  private chainingKey: Uint8Array;
  private handshakeHash: Uint8Array;
  private readonly cipher = new HandshakeCipher();

  /** `InitializeSymmetric(protocolName)`: names up to HASHLEN are zero-padded, longer ones hashed. */
  constructor(
    readonly hash: NoiseHash,
    protocolName: string,
  ) {
    const name = new TextEncoder().encode(protocolName);
    if (name.length <= hash.hashLen) {
      this.handshakeHash = new Uint8Array(hash.hashLen);
      this.handshakeHash.set(name);
    } else {
      this.handshakeHash = hash.digest(name);
    }
    this.chainingKey = this.handshakeHash.slice();
  }

  /** The transcript hash `h` (the channel binding once the handshake ends). */
  get h(): Uint8Array {
    return this.handshakeHash.slice();
  }

  hasKey(): boolean {
    return this.cipher.hasKey();
  }

  mixHash(data: Uint8Array): void {
    const input = new Uint8Array(this.handshakeHash.length + data.length);
    input.set(this.handshakeHash, 0);
    input.set(data, this.handshakeHash.length);
    this.handshakeHash = this.hash.digest(input);
  }

  mixKey(ikm: Uint8Array): void {
    const [ck, key] = hkdf(this.hash, this.chainingKey, ikm, 2);
    this.chainingKey = ck!;
    this.cipher.initializeKey(key!);
  }

  mixKeyAndHash(ikm: Uint8Array): void {
    const [ck, tempH, key] = hkdf(this.hash, this.chainingKey, ikm, 3);
    this.chainingKey = ck!;
    this.mixHash(tempH!);
    this.cipher.initializeKey(key!);
  }

  encryptAndHash(plaintext: Uint8Array): Uint8Array {
    const ciphertext = this.cipher.encrypt(this.handshakeHash, plaintext);
    this.mixHash(ciphertext);
    return ciphertext;
  }

  decryptAndHash(ciphertext: Uint8Array): Uint8Array {
    const plaintext = this.cipher.decrypt(this.handshakeHash, ciphertext);
    this.mixHash(ciphertext);
    return plaintext;
  }

  split(): SplitKeys {
    const [k1, k2] = hkdf(this.hash, this.chainingKey, EMPTY_AD, 2);
    return { initiatorToResponder: cipherKey(k1!), responderToInitiator: cipherKey(k2!) };
  }
}
