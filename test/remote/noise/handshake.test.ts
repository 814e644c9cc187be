import { describe, expect, test } from "bun:test";
import {
  HybridKeyPair,
  NoiseInitiator,
  NoiseResponder,
  REGISTRY_AUTH_REJECTED_PAYLOAD,
  RecordOpener,
  RecordSealer,
  buildPrologue,
  classifyResponderPayload,
  parseHarnessAuthorization,
} from "../../../src/remote/noise/index.ts";
import { caught, rejected } from "./helpers.ts";

const executor = HybridKeyPair.generate();
const harness = HybridKeyPair.generate();
const route = { environmentId: "env-1", executorRegistrationId: "reg-1", streamId: "0b9c6a52-6f0e-4d43-9a55-2f6f1f0c5c11" };
const prologue = buildPrologue(route);
const authorization = new TextEncoder().encode("harness-key-authorization-token");

const initiatorFor = (p = prologue) => new NoiseInitiator({ prologue: p, localStatic: harness, remoteStatic: executor.publicKeys });
const responderFor = (p = prologue, localStatic = executor) => new NoiseResponder({ prologue: p, localStatic });

/** First and last byte of every token region of a message, plus its middle bytes. */
function positions(regions: number[]): number[] {
  const out: number[] = [];
  let at = 0;
  for (const size of regions) {
    out.push(at, at + (size >> 1), at + size - 1);
    at += size;
  }
  return out;
}
// Message 1: skem 1088, e 32 + 1184, s 48 + 1200, payload (31) + tag 16.
const MESSAGE1_REGIONS = [1088, 32, 1184, 48, 1200, authorization.length + 16];
// Message 2: ekem 1088, skem 1104, e 32 + 1184, tag 16.
const MESSAGE2_REGIONS = [1088, 1104, 32, 1184, 16];

describe("hybridIK handshake, SHA-256 suite", () => {
  test("round trip: message sizes 3568 + len(payload) and 3424, payload delivered, keys cross", async () => {
    const initiator = initiatorFor();
    const responder = responderFor();
    const msg1 = initiator.writeMessage1(authorization);
    expect(msg1.length).toBe(3568 + authorization.length);
    const { payload, remoteStatic } = await responder.readMessage1(msg1);
    expect(Buffer.from(payload).toString()).toBe("harness-key-authorization-token");
    expect(parseHarnessAuthorization(payload)).toBe("harness-key-authorization-token");
    expect(Buffer.from(remoteStatic.x25519).equals(Buffer.from(harness.publicKeys.x25519))).toBe(true);
    expect(Buffer.from(remoteStatic.mlkem768).equals(Buffer.from(harness.publicKeys.mlkem768))).toBe(true);

    const reply = await responder.writeMessage2();
    expect(reply.message.length).toBe(3424);
    const done = initiator.readMessage2(reply.message);
    expect(done.payload.length).toBe(0);
    expect(classifyResponderPayload(done.payload)).toBe("accepted");
    expect(Buffer.from(done.handshakeHash).equals(Buffer.from(reply.handshakeHash))).toBe(true);
    expect(Buffer.from(done.keys.send).equals(Buffer.from(reply.keys.receive))).toBe(true);
    expect(Buffer.from(done.keys.receive).equals(Buffer.from(reply.keys.send))).toBe(true);
    expect(Buffer.from(done.keys.send).equals(Buffer.from(done.keys.receive))).toBe(false);

    const up = new RecordSealer(done.keys.send).seal(new TextEncoder().encode('{"id":1}'));
    expect(Buffer.from(new RecordOpener(reply.keys.receive).open(up.ciphertext)).toString()).toBe('{"id":1}');
  });

  test("message 2 may carry the registry-rejection marker: 3424 + 41 bytes, classified for the harness", async () => {
    const initiator = initiatorFor();
    const responder = responderFor();
    await responder.readMessage1(initiator.writeMessage1(authorization));
    const reply = await responder.writeMessage2(REGISTRY_AUTH_REJECTED_PAYLOAD);
    expect(reply.message.length).toBe(3424 + 41);
    const done = initiator.readMessage2(reply.message);
    expect(Buffer.from(done.payload).toString()).toBe("codex-registry-authentication-rejected/v1");
    expect(classifyResponderPayload(done.payload)).toBe("registry-auth-rejected");
    expect(classifyResponderPayload(new TextEncoder().encode("something else"))).toBe("invalid");
  });

  test("a flipped byte anywhere in message 1's token regions fails authentication", async () => {
    const msg1 = initiatorFor().writeMessage1(authorization);
    for (const at of positions(MESSAGE1_REGIONS)) {
      const tampered = msg1.slice();
      tampered[at]! ^= 0x01;
      const err = await rejected(() => responderFor().readMessage1(tampered));
      expect(err.code).toBe("handshake");
      expect(err.message).toMatch(/^message 1 failed/);
    }
    // The untouched message still reads: the failures above were the tampering.
    expect((await responderFor().readMessage1(msg1)).payload.length).toBe(authorization.length);
  });

  test("a flipped byte anywhere in message 2's token regions fails authentication", async () => {
    for (const at of positions(MESSAGE2_REGIONS)) {
      const initiator = initiatorFor();
      const responder = responderFor();
      await responder.readMessage1(initiator.writeMessage1(authorization));
      const tampered = (await responder.writeMessage2()).message;
      tampered[at]! ^= 0x80;
      const err = caught(() => initiator.readMessage2(tampered));
      expect(err.code).toBe("handshake");
      expect(err.message).toMatch(/^message 2 failed/);
    }
  });

  test("a different prologue (another stream id) fails message 1", async () => {
    const msg1 = initiatorFor().writeMessage1(authorization);
    const other = buildPrologue({ ...route, streamId: "5d0f2a43-8a7e-4a2b-b1ec-0c37a1d1e0aa" });
    const err = await rejected(() => responderFor(other).readMessage1(msg1));
    expect(err.code).toBe("handshake");
    expect(err.message).toBe("message 1 failed authentication: decryption failed (nonce 0): authentication tag mismatch");
  });

  test("a responder with another static identity cannot read message 1", async () => {
    const msg1 = initiatorFor().writeMessage1(authorization);
    const err = await rejected(() => responderFor(prologue, HybridKeyPair.generate()).readMessage1(msg1));
    expect(err.message).toBe("message 1 failed authentication: decryption failed (nonce 0): authentication tag mismatch");
  });

  test("message 1 outside 3568..3568+4096 bytes is refused before any key work", async () => {
    expect((await rejected(() => responderFor().readMessage1(new Uint8Array(3567)))).message).toBe(
      "message 1 is 3567 bytes; expected 3568 to 7664",
    );
    expect((await rejected(() => responderFor().readMessage1(new Uint8Array(7665)))).message).toBe(
      "message 1 is 7665 bytes; expected 3568 to 7664",
    );
    const err = caught(() => initiatorFor().writeMessage1(new Uint8Array(4097)));
    expect(err.code).toBe("limit");
    expect(err.message).toBe("message 1 payload is 4097 bytes; at most 4096 are allowed");
  });

  test("steps out of turn, or after a failure, are refused", async () => {
    expect((await rejected(() => responderFor().writeMessage2())).message).toBe(
      "responder cannot handle message 2 now: the handshake is at read1",
    );
    const responder = responderFor();
    await rejected(() => responder.readMessage1(new Uint8Array(3568)));
    expect((await rejected(() => responder.readMessage1(new Uint8Array(3568)))).message).toBe(
      "responder cannot handle message 1 now: the handshake is failed",
    );
    const initiator = initiatorFor();
    expect(caught(() => initiator.readMessage2(new Uint8Array(3424))).message).toBe(
      "initiator cannot handle message 2 now: the handshake is at write1",
    );
  });

  test("a low-order X25519 executor key is refused by the harness", async () => {
    const bad = { x25519: new Uint8Array(32), mlkem768: executor.publicKeys.mlkem768 };
    const initiator = new NoiseInitiator({ prologue, localStatic: harness, remoteStatic: bad });
    const err = caught(() => initiator.writeMessage1(authorization));
    expect(err.code).toBe("handshake");
    expect(err.message).toBe("X25519 with the peer's key failed (invalid or low-order public key)");
  });

  test("the harness authorization must be UTF-8", async () => {
    const err = caught(() => parseHarnessAuthorization(Uint8Array.of(0x61, 0xff)));
    expect(err.message).toBe("harness key authorization is not valid UTF-8");
  });
});
