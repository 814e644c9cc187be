/** A close frame's payload (RFC 6455 §5.5: at most 125 bytes): a long reason is cut at a character boundary. */
import { expect, test } from "bun:test";
import { closePayload } from "../../src/transport/ws-frames.ts";

const reasonOf = (payload: Uint8Array) => new TextDecoder("utf-8", { fatal: true }).decode(payload.subarray(2));

test("the code, then the reason; one past 123 bytes is cut to fit without splitting a character", () => {
  expect([...closePayload(1008, "no")]).toEqual([0x03, 0xf0, 0x6e, 0x6f]);
  const ascii = closePayload(1002, "x".repeat(200));
  expect([ascii.byteLength, reasonOf(ascii)]).toEqual([125, "x".repeat(123)]);
  // "é" is 2 bytes: 61 of them (122 bytes) fit, the 62nd would end past byte 123.
  const twoByte = closePayload(1009, "é".repeat(100));
  expect([twoByte.byteLength, reasonOf(twoByte)]).toEqual([124, "é".repeat(61)]);
  // "€" is 3 bytes: 41 of them fill 123 exactly.
  expect(reasonOf(closePayload(1000, "€".repeat(50)))).toBe("€".repeat(41));
});
