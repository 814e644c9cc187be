/**
 * The executor side of hybridIK (remote.md §5.4, §5.5), split in two so the
 * caller can authorize the harness asynchronously between the messages:
 * `readMessage1` authenticates the harness static keys and returns the
 * payload; `writeMessage2` answers (empty payload, or the §2.4 marker).
 *
 * @example
 * const hs = new NoiseResponder({ prologue, localStatic: processStaticIdentity() });
 * const { payload, remoteStatic } = await hs.readMessage1(msg1);
 * if (await validate(remoteStatic, parseHarnessAuthorization(payload))) {
 *   const { message, keys } = await hs.writeMessage2();
 * }
 *
 * Both steps are asynchronous: the ML-KEM work is the runtime's native
 * WebCrypto (see native.ts), which has no synchronous form.
 */
import { NoiseError } from "./errors.ts";
import * as hs from "./handshake-common.ts";
import { HybridKeyPair, type HybridPublicKeys, type Rng, dh, encapsulateAsync } from "./keys.ts";
import {
  MAX_HANDSHAKE_PAYLOAD_BYTES,
  MESSAGE1_OVERHEAD_BYTES,
  MLKEM768_CIPHERTEXT_BYTES,
  MLKEM768_PUBLIC_KEY_BYTES,
  X25519_KEY_BYTES,
} from "./limits.ts";
import type { SymmetricState } from "./symmetric.ts";

export type ResponderOptions = hs.HandshakeOptions & {
  /** The executor's static identity (one per process). */
  readonly localStatic: HybridKeyPair;
};

export type Message1 = {
  /** Decrypted, authenticated payload: the harness key authorization. */
  readonly payload: Uint8Array;
  /** The harness static keys, authenticated by `ss` and the payload tag. */
  readonly remoteStatic: HybridPublicKeys;
};

export type ResponderResult = hs.HandshakeResult & { readonly message: Uint8Array };

export class NoiseResponder {
  private readonly state: SymmetricState;
  private readonly rng: Rng;
  private remoteEphemeral: HybridPublicKeys | null = null;
  private remoteStatic: HybridPublicKeys | null = null;
  private readonly turns = new hs.Turns<"read1" | "write2">("responder", "read1");

  constructor(private readonly options: ResponderOptions) {
    const { hash, rng } = hs.resolveOptions(options);
    this.rng = rng;
    this.state = hs.initialState(hash, options.prologue, options.localStatic.publicKeys);
  }

  /**
   * Authenticates message 1. Its length is checked before any public-key
   * work, so an oversized or truncated message costs nothing.
   */
  readMessage1(message: Uint8Array): Promise<Message1> {
    return this.turns.takeAsync("read1", "message 1", "write2", () => this.read1(message));
  }

  /** Message 2: 3424 + `payload.length` bytes, and the transport keys. */
  writeMessage2(payload: Uint8Array = new Uint8Array(0)): Promise<ResponderResult> {
    return this.turns.takeAsync("write2", "message 2", "done", () => this.write2(payload));
  }

  private async read1(message: Uint8Array): Promise<Message1> {
    const max = MESSAGE1_OVERHEAD_BYTES + MAX_HANDSHAKE_PAYLOAD_BYTES;
    if (message.length < MESSAGE1_OVERHEAD_BYTES || message.length > max) {
      throw new NoiseError("handshake", `message 1 is ${message.length} bytes; expected ${MESSAGE1_OVERHEAD_BYTES} to ${max}`);
    }
    const { state } = this;
    const local = this.options.localStatic;
    const reader = new hs.MessageReader(message, "message 1");
    // skem: to our static KEM key; no key yet, so in clear.
    const skem = state.decryptAndHash(reader.take(hs.sealedLength(state, MLKEM768_CIPHERTEXT_BYTES), "skem"));
    state.mixKeyAndHash(await local.decapsulate(skem));
    const re = hs.readEphemeral(state, reader);
    // es: initiator e with our s.
    state.mixKey(dh(local.x25519Secret, re.x25519));
    // s
    const x25519 = state.decryptAndHash(reader.take(hs.sealedLength(state, X25519_KEY_BYTES), "s (X25519)"));
    const mlkem768 = state.decryptAndHash(reader.take(hs.sealedLength(state, MLKEM768_PUBLIC_KEY_BYTES), "s (ML-KEM)"));
    const rs = { x25519, mlkem768 };
    // ss
    state.mixKey(dh(local.x25519Secret, rs.x25519));
    const payload = state.decryptAndHash(reader.rest());
    this.remoteEphemeral = re;
    this.remoteStatic = rs;
    return { payload, remoteStatic: rs };
  }

  private async write2(payload: Uint8Array): Promise<ResponderResult> {
    const { state, rng } = this;
    const re = this.remoteEphemeral!;
    const rs = this.remoteStatic!;
    const out: Uint8Array[] = [];
    // ekem: to the initiator's ephemeral KEM key, in clear.
    const ekem = await encapsulateAsync(re.mlkem768, rng);
    out.push(ekem.cipherText);
    state.mixHash(ekem.cipherText);
    state.mixKey(ekem.sharedSecret);
    // skem: to the initiator's static KEM key, encrypted.
    const skem = await encapsulateAsync(rs.mlkem768, rng);
    out.push(state.encryptAndHash(skem.cipherText));
    state.mixKeyAndHash(skem.sharedSecret);
    // e
    const e = HybridKeyPair.generate(rng);
    hs.writeEphemeral(state, e.publicKeys, out);
    // ee, se: se is initiator s with our e.
    state.mixKey(dh(e.x25519Secret, re.x25519));
    state.mixKey(dh(e.x25519Secret, rs.x25519));
    out.push(state.encryptAndHash(payload));
    return { ...hs.finish(state, "responder"), message: hs.concat(out) };
  }

  /** The transcript hash `h` so far (after message 1 it matches the vector's `h[0]`). */
  get transcriptHash(): Uint8Array {
    return this.state.h;
  }
}
