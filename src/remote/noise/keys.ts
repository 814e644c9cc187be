/**
 * Key pairs of the hybrid suite (remote.md §5.2): X25519 plus ML-KEM-768.
 * Randomness comes from an injected `Rng` so the published vector can be
 * reproduced; production uses the system CSPRNG.
 *
 * The public-key work is the runtime's native code where Bun 1.4.5 has it
 * (native.ts): X25519, ML-KEM key generation from a seed, and (async, on the
 * executor's side) ML-KEM encapsulation and decapsulation. `@noble/post-quantum`
 * stays for what has no native synchronous form: the harness role's
 * decapsulation, and encapsulation with an injected `Rng` (WebCrypto draws its
 * own randomness, so the published vector's message 2 needs noble's).
 */
import { randomBytes } from "@noble/hashes/utils.js";
import { ml_kem768 } from "@noble/post-quantum/ml-kem.js";
import { NoiseError } from "./errors.ts";
import { MLKEM768_PUBLIC_KEY_BYTES, X25519_KEY_BYTES } from "./limits.ts";
import { mlkemDecapsulate, mlkemDecapsulationKey, mlkemEncapsulate, mlkemPublicKey, x25519PublicKey, x25519Shared } from "./native.ts";

/** Returns `length` random bytes. */
export type Rng = (length: number) => Uint8Array;

/** The operating system's CSPRNG (`crypto.getRandomValues`). */
export const systemRng: Rng = (length) => randomBytes(length);

/** ML-KEM key generation seed `d ‖ z` (FIPS 203). */
const MLKEM_SEED_BYTES = 64;
/** ML-KEM encapsulation randomness `m` (FIPS 203). */
const MLKEM_ENCAPS_BYTES = 32;

/** A peer's public half: what the key JSON carries and the handshake authenticates. */
export type HybridPublicKeys = { readonly x25519: Uint8Array; readonly mlkem768: Uint8Array };

/**
 * A hybrid key pair, static or ephemeral. The secret halves never leave this
 * object in logs: `toJSON` and `inspect` show the public keys only.
 */
export class HybridKeyPair {
  /** noble's expanded decapsulation key, made on first use (the harness role's synchronous decapsulation). */
  private expandedSecret: Uint8Array | undefined;
  /** The native decapsulation key, imported on first use. */
  private nativeSecret: CryptoKey | undefined;

  private constructor(
    readonly publicKeys: HybridPublicKeys,
    /** Secret. */ readonly x25519Secret: Uint8Array,
    /** Secret: the ML-KEM `d ‖ z` seed. */ private readonly mlkemSeed: Uint8Array,
  ) {}

  /** Draws the X25519 secret (32 bytes), then the ML-KEM seed (64), in that order. */
  static generate(rng: Rng = systemRng): HybridKeyPair {
    return HybridKeyPair.fromParts(rng(X25519_KEY_BYTES), rng(MLKEM_SEED_BYTES));
  }

  /** From an X25519 secret and an ML-KEM `d ‖ z` seed (the vector draws them apart). */
  static fromParts(x25519Secret: Uint8Array, mlkemSeed: Uint8Array): HybridKeyPair {
    const publicKeys = { x25519: x25519PublicKey(x25519Secret), mlkem768: mlkemPublicKey(mlkemSeed) };
    return new HybridKeyPair(publicKeys, x25519Secret.slice(), mlkemSeed.slice());
  }

  /** Secret: the ML-KEM decapsulation key in FIPS 203's expanded form. */
  get mlkemSecret(): Uint8Array {
    this.expandedSecret ??= ml_kem768.keygen(this.mlkemSeed).secretKey;
    return this.expandedSecret;
  }

  /** Decapsulates natively; an invalid ciphertext yields FIPS 203's implicit-rejection secret, as `decapsulate`. */
  decapsulate(cipherText: Uint8Array): Promise<Uint8Array> {
    this.nativeSecret ??= mlkemDecapsulationKey(this.mlkemSeed);
    return mlkemDecapsulate(this.nativeSecret, cipherText);
  }

  toJSON(): string {
    return "[HybridKeyPair, secret redacted]";
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return "HybridKeyPair [secret redacted]";
  }
}

let processIdentity: HybridKeyPair | undefined;

/**
 * The executor's static identity: generated on first use and kept for the
 * life of the process, so every re-registration sends the same key (§2.3).
 */
export function processStaticIdentity(): HybridKeyPair {
  processIdentity ??= HybridKeyPair.generate();
  return processIdentity;
}

/** X25519(secret, peer). A low-order peer key is a handshake failure. */
export function dh(secret: Uint8Array, peerPublic: Uint8Array): Uint8Array {
  try {
    return x25519Shared(secret, peerPublic);
  } catch {
    throw new NoiseError("handshake", "X25519 with the peer's key failed (invalid or low-order public key)");
  }
}

const ENCAPSULATION_FAILED = "ML-KEM-768 encapsulation to the peer's key failed (invalid encapsulation key)";

/** Encapsulates to `publicKey` with fresh randomness from `rng`. */
export function encapsulate(publicKey: Uint8Array, rng: Rng): { cipherText: Uint8Array; sharedSecret: Uint8Array } {
  try {
    return ml_kem768.encapsulate(publicKey, rng(MLKEM_ENCAPS_BYTES));
  } catch {
    throw new NoiseError("handshake", ENCAPSULATION_FAILED);
  }
}

/**
 * `encapsulate`, natively when `rng` is the system CSPRNG (the native code
 * draws its own randomness); an injected `Rng` keeps noble's, so a vector's
 * bytes come out the same.
 */
export async function encapsulateAsync(publicKey: Uint8Array, rng: Rng): Promise<{ cipherText: Uint8Array; sharedSecret: Uint8Array }> {
  if (rng !== systemRng) return encapsulate(publicKey, rng);
  try {
    return await mlkemEncapsulate(publicKey);
  } catch {
    throw new NoiseError("handshake", ENCAPSULATION_FAILED);
  }
}

/** Decapsulates; an invalid ciphertext yields FIPS 203's implicit-rejection secret, caught later by the AEAD. */
export function decapsulate(cipherText: Uint8Array, secretKey: Uint8Array): Uint8Array {
  return ml_kem768.decapsulate(cipherText, secretKey);
}

/** Checks the exact public-key lengths (§5.2). */
export function checkPublicKeys(keys: HybridPublicKeys): HybridPublicKeys {
  if (keys.x25519.length !== X25519_KEY_BYTES || keys.mlkem768.length !== MLKEM768_PUBLIC_KEY_BYTES) {
    throw new NoiseError(
      "key",
      `a hybrid public key is ${X25519_KEY_BYTES} + ${MLKEM768_PUBLIC_KEY_BYTES} bytes, got ${keys.x25519.length} + ${keys.mlkem768.length}`,
    );
  }
  return keys;
}
