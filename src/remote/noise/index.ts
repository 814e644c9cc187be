/**
 * The Noise layer of remote mode (remote.md §5): the hybridIK handshake in
 * both roles, keys and their registry JSON, the stream prologue, and the
 * encrypted record stream. Pure and transport-independent: the relay layer
 * feeds it bytes and sends what it returns.
 */
export { NoiseError, type NoiseErrorCode } from "./errors.ts";
export { SHA256, SHA512, type NoiseHash } from "./hash.ts";
export type { HandshakeOptions, HandshakeResult, TransportKeys } from "./handshake-common.ts";
export { NoiseInitiator, type InitiatorOptions, type InitiatorResult } from "./initiator.ts";
export { NoiseResponder, type Message1, type ResponderOptions, type ResponderResult } from "./responder.ts";
export { HybridKeyPair, type HybridPublicKeys, type Rng, processStaticIdentity, systemRng } from "./keys.ts";
export { NoiseKeyJsonSchema, type NoiseKeyJson, parseNoiseKeyJson, toNoiseKeyJson } from "./key-json.ts";
export { type PrologueParts, buildPrologue } from "./prologue.ts";
export { REGISTRY_AUTH_REJECTED_PAYLOAD, classifyResponderPayload, parseHarnessAuthorization } from "./payloads.ts";
export { RecordOpener, RecordSealer, type SealedRecord } from "./record.ts";
export { ReorderWindow } from "./reorder.ts";
export { Reassembler, frameRecords } from "./framing.ts";
export { NoiseStreamReceiver, NoiseStreamSender, openNoiseStream } from "./stream.ts";
export * from "./limits.ts";
export * from "./names.ts";
