import { describe, expect, test } from "bun:test";
import {
  HybridKeyPair,
  NoiseError,
  SUITE_LABEL,
  SUITE_TRANSCRIPT_NAME,
  buildPrologue,
  parseNoiseKeyJson,
  processStaticIdentity,
  toNoiseKeyJson,
} from "../../../src/remote/noise/index.ts";

const keys = HybridKeyPair.generate().publicKeys;
const json = toNoiseKeyJson(keys);

function keyError(value: unknown): string {
  try {
    parseNoiseKeyJson(value);
  } catch (err) {
    expect(err).toBeInstanceOf(NoiseError);
    expect((err as NoiseError).code).toBe("key");
    return (err as NoiseError).message;
  }
  throw new Error("expected the key object to be refused");
}

describe("key JSON object (remote.md §5.2)", () => {
  test("encodes as suite + padded standard base64 and decodes back", () => {
    expect(Object.keys(json)).toEqual(["suite", "x25519_public_key", "mlkem768_public_key"]);
    expect(json.suite).toBe("Noise_hybridIK_X25519+MLKEM768_AESGCM_SHA256");
    expect(json.x25519_public_key).toHaveLength(44);
    expect(json.mlkem768_public_key).toHaveLength(1580);
    const back = parseNoiseKeyJson(JSON.parse(JSON.stringify(json)));
    expect(Buffer.from(back.x25519).equals(Buffer.from(keys.x25519))).toBe(true);
    expect(Buffer.from(back.mlkem768).equals(Buffer.from(keys.mlkem768))).toBe(true);
  });

  test("unknown fields are rejected", () => {
    expect(keyError({ ...json, extra: 1 })).toBe('invalid Noise key object: Unrecognized key: "extra"');
  });

  test("the suite must be the label, not the transcript name", () => {
    expect(SUITE_TRANSCRIPT_NAME).not.toBe(SUITE_LABEL);
    expect(keyError({ ...json, suite: SUITE_TRANSCRIPT_NAME })).toBe(
      'invalid Noise key object: suite: Invalid input: expected "Noise_hybridIK_X25519+MLKEM768_AESGCM_SHA256"',
    );
  });

  test("lengths must be exactly 32 and 1184 bytes", () => {
    const short = Buffer.alloc(31).toString("base64");
    expect(keyError({ ...json, x25519_public_key: short })).toBe(
      "invalid Noise key object: x25519_public_key: must decode to 32 bytes, got 31",
    );
    const long = Buffer.alloc(1185).toString("base64");
    expect(keyError({ ...json, mlkem768_public_key: long })).toBe(
      "invalid Noise key object: mlkem768_public_key: must decode to 1184 bytes, got 1185",
    );
  });

  test("unpadded, URL-safe and non-canonical base64 are rejected", () => {
    const unpadded = json.x25519_public_key.replace(/=+$/, "");
    expect(keyError({ ...json, x25519_public_key: unpadded })).toStartWith(
      "invalid Noise key object: x25519_public_key: not padded standard base64: ",
    );
    const urlSafe = Buffer.alloc(32, 0xfb).toString("base64url") + "=";
    expect(keyError({ ...json, x25519_public_key: urlSafe })).toStartWith(
      "invalid Noise key object: x25519_public_key: not padded standard base64: ",
    );
    // 32 zero bytes end "AA=" canonically; "AB=" sets bits the encoding does not use.
    const nonCanonical = Buffer.alloc(32).toString("base64").replace(/A=$/, "B=");
    expect(keyError({ ...json, x25519_public_key: nonCanonical })).toStartWith(
      "invalid Noise key object: x25519_public_key: not padded standard base64: ",
    );
    expect(keyError({ ...json, mlkem768_public_key: undefined })).toBe(
      "invalid Noise key object: mlkem768_public_key: Invalid input: expected string, received undefined",
    );
  });
});

describe("static identity", () => {
  test("one per process: every call returns the same key pair", () => {
    const first = processStaticIdentity();
    expect(processStaticIdentity()).toBe(first);
    expect(first.publicKeys.x25519).toHaveLength(32);
    expect(first.publicKeys.mlkem768).toHaveLength(1184);
  });

  test("secrets never serialize", () => {
    const pair = HybridKeyPair.generate();
    expect(JSON.stringify({ pair })).toBe('{"pair":"[HybridKeyPair, secret redacted]"}');
    expect(Bun.inspect(pair)).toBe("HybridKeyPair [secret redacted]");
  });
});

describe("prologue (remote.md §5.3)", () => {
  test("four parts, each after a u64 big-endian length", () => {
    const prologue = buildPrologue({ environmentId: "env", executorRegistrationId: "reg-1", streamId: "s" });
    const expected = Buffer.concat([
      Buffer.from("0000000000000020", "hex"),
      Buffer.from("codex-exec-server-relay-noise/v1"),
      Buffer.from("0000000000000003", "hex"),
      Buffer.from("env"),
      Buffer.from("0000000000000005", "hex"),
      Buffer.from("reg-1"),
      Buffer.from("0000000000000001", "hex"),
      Buffer.from("s"),
    ]);
    expect(Buffer.from(prologue).toString("hex")).toBe(expected.toString("hex"));
  });

  test("lengths count UTF-8 bytes", () => {
    const prologue = buildPrologue({ environmentId: "é", executorRegistrationId: "", streamId: "" });
    expect(Buffer.from(prologue.subarray(40, 50)).toString("hex")).toBe("0000000000000002c3a9");
  });
});
