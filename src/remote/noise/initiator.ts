/**
 * The harness side of hybridIK (remote.md §5.4): writes message 1
 * `skem, e, es, s, ss` with the authorization payload, reads message 2
 * `ekem, skem, e, ee, se`.
 *
 * @example
 * const hs = new NoiseInitiator({ prologue, localStatic: harnessKeys, remoteStatic: executorKeys });
 * send(hs.writeMessage1(new TextEncoder().encode(authorization)));
 * const { payload, keys } = hs.readMessage2(reply); // payload: empty, or the rejection marker
 */
import { NoiseError } from "./errors.ts";
import * as hs from "./handshake-common.ts";
import { HybridKeyPair, type HybridPublicKeys, type Rng, checkPublicKeys, decapsulate, dh, encapsulate } from "./keys.ts";
import {
  MAX_HANDSHAKE_PAYLOAD_BYTES,
  MAX_NOISE_MESSAGE_BYTES,
  MESSAGE2_OVERHEAD_BYTES,
  MLKEM768_CIPHERTEXT_BYTES,
} from "./limits.ts";
import type { SymmetricState } from "./symmetric.ts";

export type InitiatorOptions = hs.HandshakeOptions & {
  /** The harness's static identity. */
  readonly localStatic: HybridKeyPair;
  /** The executor's static keys, pinned from the registry's `connect` answer. */
  readonly remoteStatic: HybridPublicKeys;
};

export type InitiatorResult = hs.HandshakeResult & {
  /** Message 2 payload: empty on success, or `REGISTRY_AUTH_REJECTED_MARKER` (see `classifyResponderPayload`). */
  readonly payload: Uint8Array;
};

export class NoiseInitiator {
  private readonly state: SymmetricState;
  private readonly rng: Rng;
  private ephemeral: HybridKeyPair | null = null;
  private readonly turns = new hs.Turns<"write1" | "read2">("initiator", "write1");

  constructor(private readonly options: InitiatorOptions) {
    checkPublicKeys(options.remoteStatic);
    const { hash, rng } = hs.resolveOptions(options);
    this.rng = rng;
    this.state = hs.initialState(hash, options.prologue, options.remoteStatic);
  }

  /** Message 1: 3568 + `payload.length` bytes. */
  writeMessage1(payload: Uint8Array): Uint8Array {
    return this.turns.take("write1", "message 1", "read2", () => this.write1(payload));
  }

  private write1(payload: Uint8Array): Uint8Array {
    if (payload.length > MAX_HANDSHAKE_PAYLOAD_BYTES) {
      throw new NoiseError("limit", `message 1 payload is ${payload.length} bytes; at most ${MAX_HANDSHAKE_PAYLOAD_BYTES} are allowed`);
    }
    const { state, rng } = this;
    const remote = this.options.remoteStatic;
    const local = this.options.localStatic;
    const out: Uint8Array[] = [];
    // skem: no key yet, so the ciphertext goes in clear (but is hashed).
    const skem = encapsulate(remote.mlkem768, rng);
    out.push(state.encryptAndHash(skem.cipherText));
    state.mixKeyAndHash(skem.sharedSecret);
    // e
    const e = HybridKeyPair.generate(rng);
    this.ephemeral = e;
    hs.writeEphemeral(state, e.publicKeys, out);
    // es
    state.mixKey(dh(e.x25519Secret, remote.x25519));
    // s
    out.push(state.encryptAndHash(local.publicKeys.x25519));
    out.push(state.encryptAndHash(local.publicKeys.mlkem768));
    // ss
    state.mixKey(dh(local.x25519Secret, remote.x25519));
    out.push(state.encryptAndHash(payload));
    return hs.concat(out);
  }

  /** Authenticates message 2 and splits. Throws `NoiseError("handshake")` on any mismatch. */
  readMessage2(message: Uint8Array): InitiatorResult {
    return this.turns.take("read2", "message 2", "done", () => this.read2(message));
  }

  private read2(message: Uint8Array): InitiatorResult {
    if (message.length < MESSAGE2_OVERHEAD_BYTES || message.length > MAX_NOISE_MESSAGE_BYTES) {
      throw new NoiseError(
        "handshake",
        `message 2 is ${message.length} bytes; expected ${MESSAGE2_OVERHEAD_BYTES} to ${MAX_NOISE_MESSAGE_BYTES}`,
      );
    }
    const { state } = this;
    const e = this.ephemeral!;
    const local = this.options.localStatic;
    const reader = new hs.MessageReader(message, "message 2");
    // ekem: to our ephemeral KEM key, in clear.
    const ekem = reader.take(MLKEM768_CIPHERTEXT_BYTES, "ekem");
    state.mixHash(ekem);
    state.mixKey(decapsulate(ekem, e.mlkemSecret));
    // skem: to our static KEM key, encrypted.
    const skem = state.decryptAndHash(reader.take(hs.sealedLength(state, MLKEM768_CIPHERTEXT_BYTES), "skem"));
    state.mixKeyAndHash(decapsulate(skem, local.mlkemSecret));
    const re = hs.readEphemeral(state, reader);
    // ee, se
    state.mixKey(dh(e.x25519Secret, re.x25519));
    state.mixKey(dh(local.x25519Secret, re.x25519));
    const payload = state.decryptAndHash(reader.rest());
    return { ...hs.finish(state, "initiator"), payload };
  }

  /** The transcript hash `h` so far (after message 1 it matches the vector's `h[0]`). */
  get transcriptHash(): Uint8Array {
    return this.state.h;
  }
}
