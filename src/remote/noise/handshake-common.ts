/**
 * What both roles of the hybridIK handshake share (remote.md §5.4): the
 * initial state with the `<- s` pre-message, the `e` token, reading a message
 * field by field, and the result both sides end with.
 */
import { NoiseError } from "./errors.ts";
import { type NoiseHash, SHA256 } from "./hash.ts";
import { type HybridPublicKeys, type Rng, systemRng } from "./keys.ts";
import { MLKEM768_PUBLIC_KEY_BYTES, TAG_BYTES, X25519_KEY_BYTES } from "./limits.ts";
import { transcriptName } from "./names.ts";
import { type SplitKeys, SymmetricState } from "./symmetric.ts";

export type HandshakeOptions = {
  /** The stream prologue (`buildPrologue`); both sides must use the same bytes. */
  readonly prologue: Uint8Array;
  /** SHA256 (the suite, default) or SHA512 (the published vector). */
  readonly hash?: NoiseHash;
  /** Randomness for ephemerals and encapsulations; the system CSPRNG by default. */
  readonly rng?: Rng;
};

/** Transport keys after `Split()`, from this side's point of view. Secret. */
export type TransportKeys = {
  /** Seals what this side sends (initiator: key 1, responder: key 2). */
  readonly send: Uint8Array;
  /** Opens what the peer sends. */
  readonly receive: Uint8Array;
};

export type HandshakeResult = {
  readonly keys: TransportKeys;
  /** Final transcript hash `h`, equal on both sides. */
  readonly handshakeHash: Uint8Array;
};

export function resolveOptions(options: HandshakeOptions): { hash: NoiseHash; rng: Rng } {
  return { hash: options.hash ?? SHA256, rng: options.rng ?? systemRng };
}

/** `Initialize`: name, `MixHash(prologue)`, then the responder static pre-message (X25519, then ML-KEM). */
export function initialState(hash: NoiseHash, prologue: Uint8Array, responderStatic: HybridPublicKeys): SymmetricState {
  const state = new SymmetricState(hash, transcriptName(hash.name));
  state.mixHash(prologue);
  state.mixHash(responderStatic.x25519);
  state.mixHash(responderStatic.mlkem768);
  return state;
}

/** `e` read side: the peer's ephemeral X25519 and ML-KEM keys, in clear, each hashed. */
export function readEphemeral(state: SymmetricState, reader: MessageReader): HybridPublicKeys {
  const x25519 = reader.take(X25519_KEY_BYTES, "e (X25519)");
  state.mixHash(x25519);
  const mlkem768 = reader.take(MLKEM768_PUBLIC_KEY_BYTES, "e (ML-KEM)");
  state.mixHash(mlkem768);
  return { x25519, mlkem768 };
}

/** `e` write side. */
export function writeEphemeral(state: SymmetricState, keys: HybridPublicKeys, out: Uint8Array[]): void {
  out.push(keys.x25519, keys.mlkem768);
  state.mixHash(keys.x25519);
  state.mixHash(keys.mlkem768);
}

/** Length of `n` plaintext bytes after `EncryptAndHash` in the current state. */
export function sealedLength(state: SymmetricState, n: number): number {
  return n + (state.hasKey() ? TAG_BYTES : 0);
}

/** Splits and orients the keys for one side. */
export function finish(state: SymmetricState, role: "initiator" | "responder"): HandshakeResult {
  const split: SplitKeys = state.split();
  const keys =
    role === "initiator"
      ? { send: split.initiatorToResponder, receive: split.responderToInitiator }
      : { send: split.responderToInitiator, receive: split.initiatorToResponder };
  return { keys, handshakeHash: state.h };
}

/** Reads a handshake message field by field; a short message is a handshake error. */
export class MessageReader {
  private at = 0;

  constructor(
    private readonly message: Uint8Array,
    private readonly label: string,
  ) {}

  take(n: number, field: string): Uint8Array {
    if (this.at + n > this.message.length) {
      throw new NoiseError("handshake", `${this.label} is too short: ${this.message.length} bytes ends inside ${field}`);
    }
    const out = this.message.slice(this.at, this.at + n);
    this.at += n;
    return out;
  }

  rest(): Uint8Array {
    const out = this.message.slice(this.at);
    this.at = this.message.length;
    return out;
  }
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/**
 * What a failed message step throws. A tag mismatch becomes a handshake
 * error naming the message; other Noise errors pass through; anything else (a
 * library rejecting a key) is a handshake error too.
 */
function stepError(label: string, err: unknown): NoiseError {
  if (err instanceof NoiseError && err.code === "decrypt") return new NoiseError("handshake", `${label} failed authentication: ${err.message}`);
  if (err instanceof NoiseError) return err;
  return new NoiseError("handshake", `${label} failed: ${err instanceof Error ? err.message : String(err)}`);
}

/**
 * Whose turn it is. A step that throws leaves the handshake `failed`: a
 * half-mixed state must never be reused.
 */
export class Turns<Phase extends string> {
  private phase: Phase | "done" | "failed";

  constructor(
    private readonly role: string,
    first: Phase,
  ) {
    this.phase = first;
  }

  /** Runs `run` (the step for `label`, e.g. "message 1") if it is `phase`'s turn, then moves to `next`. */
  take<T>(phase: Phase, label: string, next: Phase | "done", run: () => T): T {
    this.enter(phase, label);
    try {
      const result = run();
      this.phase = next;
      return result;
    } catch (err) {
      throw stepError(label, err);
    }
  }

  /** `take` for an asynchronous step; while it runs the handshake counts as failed, so no other step can interleave. */
  async takeAsync<T>(phase: Phase, label: string, next: Phase | "done", run: () => Promise<T>): Promise<T> {
    this.enter(phase, label);
    try {
      const result = await run();
      this.phase = next;
      return result;
    } catch (err) {
      throw stepError(label, err);
    }
  }

  private enter(phase: Phase, label: string): void {
    if (this.phase !== phase) {
      const where = this.phase === "failed" ? "failed" : `at ${this.phase}`;
      throw new NoiseError("handshake", `${this.role} cannot handle ${label} now: the handshake is ${where}`);
    }
    this.phase = "failed";
  }
}
