import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  HybridKeyPair,
  NoiseInitiator,
  NoiseResponder,
  RecordOpener,
  RecordSealer,
  SHA512,
} from "../../../src/remote/noise/index.ts";
import { counterRng } from "./helpers.ts";

const VECTOR = readFileSync(join(import.meta.dir, "fixtures/clatter-2.2.0-hybridIK-25519-MLKEM768-AESGCM-SHA512.txt"), "utf8");

function field(name: string): string {
  const line = VECTOR.split("\n").find((l) => l.startsWith(`${name}: `));
  if (!line) throw new Error(`vector has no ${name}`);
  return line.slice(name.length + 2).trim();
}
const hex = (text: string) => Uint8Array.from(Buffer.from(text, "hex"));
const toHex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

/** The generator's transport payloads, in vector order. */
const TRANSPORT_PAYLOADS = ["Scream without a sound", "Flying off the handle", "Eugene gene the dance machine"];

describe("Clatter 2.2.0 hybridIK vector (X25519 + ML-KEM-768, AESGCM, SHA512)", () => {
  test("messages, handshake hashes and transport records reproduce byte for byte", async () => {
    expect(field("pattern")).toBe("hybridIK");
    expect(field("hash")).toBe("SHA512");
    const rng = counterRng(0xdeadbeef);
    const prologue = hex(field("prologue_hex"));
    // Static keys in the generator's draw order: both X25519 secrets, then both ML-KEM seeds.
    const [iDh, rDh] = [rng(32), rng(32)];
    const [iKem, rKem] = [rng(64), rng(64)];
    const initiatorStatic = HybridKeyPair.fromParts(iDh, iKem);
    const responderStatic = HybridKeyPair.fromParts(rDh, rKem);

    const initiator = new NoiseInitiator({
      prologue,
      hash: SHA512,
      rng,
      localStatic: initiatorStatic,
      remoteStatic: responderStatic.publicKeys,
    });
    const responder = new NoiseResponder({ prologue, hash: SHA512, rng, localStatic: responderStatic });

    const msg1 = initiator.writeMessage1(new Uint8Array(0));
    expect(msg1.length).toBe(3568);
    expect(toHex(msg1)).toBe(field("msg[0] initiator"));
    const read1 = await responder.readMessage1(msg1);
    expect(toHex(initiator.transcriptHash)).toBe(field("h[0]"));
    expect(toHex(responder.transcriptHash)).toBe(field("h[0]"));
    expect(read1.payload.length).toBe(0);
    expect(toHex(read1.remoteStatic.x25519)).toBe(toHex(initiatorStatic.publicKeys.x25519));
    expect(toHex(read1.remoteStatic.mlkem768)).toBe(toHex(initiatorStatic.publicKeys.mlkem768));

    const written2 = await responder.writeMessage2();
    expect(written2.message.length).toBe(3424);
    expect(toHex(written2.message)).toBe(field("msg[1] responder"));
    const read2 = initiator.readMessage2(written2.message);
    expect(read2.payload.length).toBe(0);

    expect(toHex(read2.handshakeHash)).toBe(field("handshake_hash"));
    expect(toHex(written2.handshakeHash)).toBe(field("h[1]"));

    const sealers = { initiator: new RecordSealer(read2.keys.send), responder: new RecordSealer(written2.keys.send) };
    const openers = { initiator: new RecordOpener(written2.keys.receive), responder: new RecordOpener(read2.keys.receive) };
    TRANSPORT_PAYLOADS.forEach((text, i) => {
      const sender = i === 1 ? "responder" : "initiator";
      const record = sealers[sender].seal(new TextEncoder().encode(text));
      expect(toHex(record.ciphertext)).toBe(field(`transport[${i}] ${sender}`));
      expect(new TextDecoder().decode(openers[sender].open(record.ciphertext))).toBe(text);
    });
  });
});
