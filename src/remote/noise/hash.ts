/**
 * The Noise hash function and its HKDF (Noise spec §4.3, §5.2): HMAC-based,
 * `salt = ck`, empty info, 2 or 3 outputs of HASHLEN bytes.
 */
import { hmac } from "@noble/hashes/hmac.js";
import { sha256, sha512 } from "@noble/hashes/sha2.js";
import type { CHash } from "@noble/hashes/utils.js";
import type { HashName } from "./names.ts";

export type NoiseHash = {
  readonly name: HashName;
  /** HASHLEN: 32 for SHA-256, 64 for SHA-512. */
  readonly hashLen: number;
  digest(data: Uint8Array): Uint8Array;
  hmac(key: Uint8Array, data: Uint8Array): Uint8Array;
};

function noiseHash(name: HashName, fn: CHash): NoiseHash {
  return {
    name,
    hashLen: fn.outputLen,
    digest: (data) => fn(data),
    hmac: (key, data) => hmac(fn, key, data),
  };
}

/** The suite's hash. */
export const SHA256 = noiseHash("SHA256", sha256);
/** Used by the published Clatter vector only. */
export const SHA512 = noiseHash("SHA512", sha512);

/** HKDF(chainingKey, ikm) with `count` (2 or 3) outputs of HASHLEN bytes each. */
export function hkdf(hash: NoiseHash, chainingKey: Uint8Array, ikm: Uint8Array, count: 2 | 3): Uint8Array[] {
  const prk = hash.hmac(chainingKey, ikm);
  const outputs: Uint8Array[] = [];
  let previous: Uint8Array = new Uint8Array(0);
  for (let i = 1; i <= count; i++) {
    const input = new Uint8Array(previous.length + 1);
    input.set(previous, 0);
    input[previous.length] = i;
    previous = hash.hmac(prk, input);
    outputs.push(previous);
  }
  return outputs;
}
