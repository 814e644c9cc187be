/**
 * The relay schema, loaded once on first use. The binary carries it as the JSON
 * descriptor generated from relay.proto (gen-descriptor.ts), read with
 * protobufjs/light: measured in a compiled binary (bun --compile --bytecode,
 * 6 runs), time from import to the first encoded frame was ~22 ms this way
 * against ~24 ms importing the full protobufjs and parsing the .proto text.
 * Nothing is read from disk at run time.
 */
import protobuf from "protobufjs/light.js";
import descriptor from "./relay.descriptor.json";

const FRAME_TYPE = "codex.exec_server.relay.v1.RelayMessageFrame";

let frameType: protobuf.Type | undefined;

/** The RelayMessageFrame type; the descriptor is compiled (encoder/decoder code generated) on the first call. */
export function relayFrameType(): protobuf.Type {
  frameType ??= protobuf.Root.fromJSON(descriptor as protobuf.INamespace).lookupType(FRAME_TYPE);
  return frameType;
}
