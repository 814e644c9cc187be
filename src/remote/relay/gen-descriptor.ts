#!/usr/bin/env bun
/**
 * Writes relay.descriptor.json from relay.proto: the codec loads the JSON with
 * protobufjs/light, which reaches its first encode faster than parsing the
 * .proto text in the binary (see schema.ts). Run after editing relay.proto:
 *   bun src/remote/relay/gen-descriptor.ts
 * test/remote/relay/schema.test.ts fails while the two disagree.
 */
import protobuf from "protobufjs";
import protoText from "./relay.proto" with { type: "text" };

/** The descriptor relay.proto compiles to, as stored in relay.descriptor.json. */
export function descriptorFromProto(): string {
  return `${JSON.stringify(protobuf.parse(protoText).root.toJSON(), null, 2)}\n`;
}

if (import.meta.main) await Bun.write(new URL("./relay.descriptor.json", import.meta.url).pathname, descriptorFromProto());
