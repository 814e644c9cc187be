/**
 * The suite's public-key primitives in the runtime's native code (Bun 1.4.5:
 * BoringSSL behind `node:crypto` and WebCrypto), the platform seam for them as
 * aead.ts is for AES-GCM.
 *
 * Why not `@noble/curves` / `@noble/post-quantum` here: measured in Bun 1.4.5
 * on this 2-core box (CPU per operation, warm): X25519 0.05 ms native (key
 * objects built from the raw bytes each time) against 0.43 ms; ML-KEM-768 key
 * generation from a seed ~0.05 ms against 1.6 ms, encapsulation 0.07 against
 * 1.15 ms, decapsulation 0.06 against 1.5 ms (key import included). The
 * executor's CPU per stream opened was 17 ms, two thirds of it in those. The
 * outputs are the same bytes: the published hybridIK vector (vector.test.ts)
 * runs through X25519, key generation and decapsulation here; keys.test.ts
 * compares against noble for random keys.
 *
 * Raw keys enter as DER with a fixed prefix: `node:crypto` takes a raw X25519
 * or ML-KEM key no other way (a JWK private key needs its public half first).
 */
import { createPrivateKey, createPublicKey, diffieHellman, type KeyObject } from "node:crypto";

const hex = (s: string) => Buffer.from(s, "hex");
/** PKCS#8 of an X25519 private key (RFC 8410 §7): this, then the 32-byte secret. */
const X25519_PKCS8_PREFIX = hex("302e020100300506032b656e04220420");
/** SubjectPublicKeyInfo of an X25519 public key (RFC 8410 §4): this, then the 32 bytes. */
const X25519_SPKI_PREFIX = hex("302a300506032b656e032100");
/** PKCS#8 of an ML-KEM-768 private key in its seed form (draft-ietf-lamps-kyber-certificates): this, then `d ‖ z`. */
const MLKEM768_PKCS8_SEED_PREFIX = hex("3054020100300b060960864801650304040204428040");
/** Bytes of the raw key at the end of an ML-KEM-768 SubjectPublicKeyInfo. */
const MLKEM768_PUBLIC_BYTES = 1184;
const MLKEM = { name: "ML-KEM-768" };

const x25519Private = (secret: Uint8Array): KeyObject =>
  createPrivateKey({ key: Buffer.concat([X25519_PKCS8_PREFIX, secret]), format: "der", type: "pkcs8" });

const rawPublic = (key: KeyObject, bytes: number): Uint8Array => new Uint8Array((key.export({ format: "der", type: "spki" }) as Buffer).subarray(-bytes));

/** X25519's public key for `secret` (RFC 7748; the scalar is clamped as there). */
export function x25519PublicKey(secret: Uint8Array): Uint8Array {
  return rawPublic(createPublicKey(x25519Private(secret)), 32);
}

/** X25519(secret, peer). Throws for a peer key that gives the all-zero secret (low order), as noble does. */
export function x25519Shared(secret: Uint8Array, peerPublic: Uint8Array): Uint8Array {
  const publicKey = createPublicKey({ key: Buffer.concat([X25519_SPKI_PREFIX, peerPublic]), format: "der", type: "spki" });
  return new Uint8Array(diffieHellman({ privateKey: x25519Private(secret), publicKey }));
}

const mlkemPrivate = (seed: Uint8Array): KeyObject =>
  createPrivateKey({ key: Buffer.concat([MLKEM768_PKCS8_SEED_PREFIX, seed]), format: "der", type: "pkcs8" });

/** ML-KEM-768's encapsulation key for the 64-byte seed `d ‖ z` (FIPS 203 KeyGen_internal). */
export function mlkemPublicKey(seed: Uint8Array): Uint8Array {
  return rawPublic(createPublicKey(mlkemPrivate(seed)), MLKEM768_PUBLIC_BYTES);
}

/** The decapsulation key for `seed`, for `mlkemDecapsulate`. */
export function mlkemDecapsulationKey(seed: Uint8Array): CryptoKey {
  return mlkemPrivate(seed).toCryptoKey(MLKEM, false, ["decapsulateBits"] as Parameters<KeyObject["toCryptoKey"]>[2]);
}

/** ML-KEM-768 decapsulation (an invalid ciphertext gives FIPS 203's implicit-rejection secret). */
export async function mlkemDecapsulate(key: CryptoKey, cipherText: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await (crypto.subtle as KemSubtle).decapsulateBits(MLKEM, key, cipherText));
}

/** ML-KEM-768 encapsulation with the runtime's own randomness; rejects for an invalid encapsulation key. */
export async function mlkemEncapsulate(publicKey: Uint8Array): Promise<{ cipherText: Uint8Array; sharedSecret: Uint8Array }> {
  const subtle = crypto.subtle as KemSubtle;
  const key = await subtle.importKey("raw-public", publicKey, MLKEM, false, ["encapsulateBits"]);
  const { ciphertext, sharedKey } = await subtle.encapsulateBits(MLKEM, key);
  return { cipherText: new Uint8Array(ciphertext), sharedSecret: new Uint8Array(sharedKey) };
}

/** The WebCrypto KEM methods (WICG modern algorithms) Bun 1.4.5 has and TypeScript's DOM types do not yet. */
type KemSubtle = {
  importKey(format: "raw-public", keyData: Uint8Array, algorithm: typeof MLKEM, extractable: boolean, usages: string[]): Promise<CryptoKey>;
  encapsulateBits(algorithm: typeof MLKEM, key: CryptoKey): Promise<{ ciphertext: ArrayBuffer; sharedKey: ArrayBuffer }>;
  decapsulateBits(algorithm: typeof MLKEM, key: CryptoKey, cipherText: Uint8Array): Promise<ArrayBuffer>;
};
