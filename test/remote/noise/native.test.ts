/** The native public-key primitives (src/remote/noise/native.ts) against noble's, byte for byte, on random keys. */
import { describe, expect, test } from "bun:test";
import { x25519 } from "@noble/curves/ed25519.js";
import { ml_kem768 } from "@noble/post-quantum/ml-kem.js";
import { randomBytes } from "node:crypto";
import { HybridKeyPair, NoiseError, systemRng } from "../../../src/remote/noise/index.ts";
import { dh, encapsulateAsync } from "../../../src/remote/noise/keys.ts";
import { rejected } from "./helpers.ts";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const bytes = (n: number) => Uint8Array.from(randomBytes(n));

describe("native X25519 and ML-KEM-768 equal noble's", () => {
  test("public keys from the same secrets and seeds, and the noble expanded secret decapsulates", () => {
    for (let i = 0; i < 20; i++) {
      const [secret, seed] = [bytes(32), bytes(64)];
      const pair = HybridKeyPair.fromParts(secret, seed);
      const noble = ml_kem768.keygen(seed);
      expect(hex(pair.publicKeys.x25519)).toBe(hex(x25519.getPublicKey(secret)));
      expect(hex(pair.publicKeys.mlkem768)).toBe(hex(noble.publicKey));
      expect(hex(pair.mlkemSecret)).toBe(hex(noble.secretKey));
    }
  });

  test("X25519 shared secrets, peer keys with the high bit set included", () => {
    for (let i = 0; i < 50; i++) {
      const [secret, peer] = [bytes(32), x25519.getPublicKey(bytes(32))];
      if (i % 2) peer[31]! |= 0x80; // RFC 7748: ignored by both
      expect(hex(dh(secret, peer))).toBe(hex(x25519.getSharedSecret(secret, peer)));
    }
  });

  test("a low-order peer key is a handshake error, as with noble", () => {
    const one = new Uint8Array(32);
    one[0] = 1;
    for (const peer of [new Uint8Array(32), one]) {
      let err: unknown;
      try {
        dh(bytes(32), peer);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(NoiseError);
      expect((err as NoiseError).message).toBe("X25519 with the peer's key failed (invalid or low-order public key)");
    }
  });

  test("decapsulation, a garbage ciphertext's implicit rejection included", async () => {
    const pair = HybridKeyPair.generate();
    const { cipherText, sharedSecret } = ml_kem768.encapsulate(pair.publicKeys.mlkem768);
    expect(hex(await pair.decapsulate(cipherText))).toBe(hex(sharedSecret));
    const garbage = bytes(1088);
    expect(hex(await pair.decapsulate(garbage))).toBe(hex(ml_kem768.decapsulate(garbage, pair.mlkemSecret)));
  });

  test("native encapsulation (the system RNG) decapsulates with noble; an invalid key is refused as by noble", async () => {
    const pair = HybridKeyPair.generate();
    const { cipherText, sharedSecret } = await encapsulateAsync(pair.publicKeys.mlkem768, systemRng);
    expect(cipherText).toHaveLength(1088);
    expect(hex(ml_kem768.decapsulate(cipherText, pair.mlkemSecret))).toBe(hex(sharedSecret));
    const invalid = new Uint8Array(1184).fill(0xff);
    const err = await rejected(() => encapsulateAsync(invalid, systemRng));
    expect(err.message).toBe("ML-KEM-768 encapsulation to the peer's key failed (invalid encapsulation key)");
    expect((await rejected(() => encapsulateAsync(invalid, (n) => new Uint8Array(n)))).message).toBe(err.message);
  });
});
