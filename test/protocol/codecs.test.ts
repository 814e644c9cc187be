/** Unit tests for the wire codecs: base64, path URIs, JSON syntax errors, the envelope. */
import { describe, expect, test } from "bun:test";
import { decodeBase64 } from "../../src/protocol/base64.ts";
import { encodeResult, parseIncoming } from "../../src/protocol/envelope.ts";
import { decodeParams } from "../../src/server/router.ts";
import { BlockResult, FileDataResult } from "../../src/fs/base64-result.ts";
import { type LentFrame, SHARED_FRAME_BUFFER_MAX, byteFrameText } from "../../src/protocol/byte-frame.ts";
import { describeJsonSyntaxError } from "../../src/protocol/json-syntax.ts";
import { parsePathUri, toPathUri } from "../../src/protocol/path-uri.ts";

describe("base64", () => {
  test("decodes standard padded base64", () => {
    expect([...decodeBase64("AAEC/w==")]).toEqual([0, 1, 2, 255]);
    expect(decodeBase64("").length).toBe(0);
  });
  for (const [input, message] of [
    ["!!", "Invalid symbol 33, offset 0."],
    ["aGk", "Invalid padding"],
    ["aG=k", "Invalid symbol 61, offset 2."],
    ["aGl=", "Invalid last symbol 108, offset 2."],
    ["aGk\n", "Invalid symbol 10, offset 3."],
    ["a-_b", "Invalid symbol 45, offset 1."],
  ]) {
    test(`rejects ${JSON.stringify(input)}`, () => expect(() => decodeBase64(input!)).toThrow(message!));
  }
});

describe("path URIs", () => {
  const accepted: [string, string][] = [
    ["file:///tmp/a", "/tmp/a"],
    ["file://localhost/tmp/a", "/tmp/a"],
    ["FILE:///tmp", "/tmp"],
    ["file:/abs/p", "/abs/p"],
    ["file:///tmp/x/../a", "/tmp/a"],
    ["file:///tmp/%2e%2e/a", "/a"],
    ["file:///tmp/d%2Ff", "/tmp/d/f"],
    ["file://", "/"],
    ["file:///", "/"],
    ["file:///tmp/a/", "/tmp/a"],
    ["file:///tmp/with%20space/%C3%BCn%C3%AF", "/tmp/with space/ünï"],
  ];
  for (const [uri, path] of accepted) test(`${uri} → ${path}`, () => expect(parsePathUri(uri)).toBe(path));

  const rejected: [string, number, string][] = [
    ["/tmp/a", -32602, "invalid URI: relative URL without a base"],
    ["a.txt", -32602, "invalid URI: relative URL without a base"],
    ["", -32602, "invalid URI: relative URL without a base"],
    ["http://x/y", -32602, "unsupported path URI scheme `http`"],
    ["file:///a?x=1", -32602, "query parameters are not allowed in path URIs"],
    ["file:///a#f", -32602, "fragments are not allowed in path URIs"],
    ["file://otherhost/p", -32600, "'file://otherhost/p' is invalid on 'linux'"],
    ["file:///C:/x", -32600, "'file:///C:/x' is invalid on 'linux'"],
  ];
  for (const [uri, code, message] of rejected) {
    test(`rejects ${JSON.stringify(uri)}`, () => expect(() => parsePathUri(uri)).toThrow(expect.objectContaining({ code, message })));
  }

  test("formats canonical URIs that round-trip spaces, unicode, % and #", () => {
    for (const path of ["/tmp/xp/with space.txt", "/tmp/ünï", "/a%b#c?d", "/", "/tmp/[x]"]) {
      expect(parsePathUri(toPathUri(path))).toBe(path);
    }
    expect(toPathUri("/tmp/xp/with space.txt")).toBe("file:///tmp/xp/with%20space.txt");
    expect(toPathUri("/tmp/xp/ünï.txt")).toBe("file:///tmp/xp/%C3%BCn%C3%AF.txt");
  });

  test("a byte that is not UTF-8 stays that byte (a Buffer path), never U+FFFD", () => {
    const raw = Buffer.from("/tmp/d\xff/x\xfe", "latin1");
    expect(parsePathUri("file:///tmp/d%FF/x%fe")).toEqual(raw);
    expect(parsePathUri("file:///tmp/d%FF%2F..%2F")).toEqual(Buffer.from("/tmp/d\xff/..", "latin1"));
    expect(toPathUri(raw)).toBe("file:///tmp/d%FF/x%FE");
    // Percent-encoded UTF-8 is text, as before.
    expect(parsePathUri("file:///tmp/%C3%BF")).toBe("/tmp/ÿ");
    expect(parsePathUri("file:///tmp/ÿ%FF")).toEqual(Buffer.from("/tmp/\xc3\xbf\xff", "latin1"));
  });
});

describe("JSON syntax errors read like serde_json's", () => {
  for (const [text, message] of [
    ["{not json", "key must be a string at line 1 column 2"],
    ["", "EOF while parsing a value at line 1 column 0"],
    ['{"a":1,}', "trailing comma at line 1 column 8"],
    ['{"a" 1}', "expected `:` at line 1 column 6"],
    ["[1,2", "EOF while parsing a list at line 1 column 4"],
    ['{"a":tru}', "expected ident at line 1 column 9"],
    ['{"a":1} x', "trailing characters at line 1 column 9"],
    ['{\n"a":@}', "expected value at line 2 column 5"],
  ]) {
    test(JSON.stringify(text), () => expect(describeJsonSyntaxError(text!)).toBe(message!));
  }
});

describe("envelope", () => {
  test("keeps 64-bit ids as written", () => {
    expect(parseIncoming('{"id":9007199254740993,"method":"a"}')).toEqual({ kind: "request", id: { json: "9007199254740993" }, method: "a", params: null });
    expect(parseIncoming('{"params":{"id":3},"id":-7,"method":"a"}')).toMatchObject({ id: { json: "-7" } });
    expect(parseIncoming('{"id":"s\\"x","method":"a"}')).toMatchObject({ id: { json: '"s\\"x"' } });
  });
  test("classifies notifications, responses and malformed objects", () => {
    expect(parseIncoming('{"method":"initialized"}')).toEqual({ kind: "notification", method: "initialized", params: null });
    expect(parseIncoming('{"id":1,"result":{}}')).toEqual({ kind: "response", id: { json: "1" }, hasResult: true, result: {} });
    // Both members: the result is read, as serde's first matching variant; a string id is kept as text.
    expect(parseIncoming('{"id":"1","result":null,"error":{}}')).toEqual({ kind: "response", id: { json: '"1"' }, hasResult: true, result: null });
    expect(parseIncoming('{"id":2,"error":{"code":1,"message":"x"}}')).toEqual({ kind: "response", id: { json: "2" }, hasResult: false });
    expect(parseIncoming('{"id":1.5,"error":{}}')).toEqual({ kind: "response", id: undefined, hasResult: false });
    expect(parseIncoming("{}")).toEqual({ kind: "malformed", detail: "missing field `error`" });
    for (const id of ["1.5", "null", "true", "99999999999999999999", "1e3"]) {
      expect(parseIncoming(`{"id":${id},"method":"a"}`)).toEqual({ kind: "malformed", detail: "data did not match any variant of untagged enum RequestId" });
    }
  });
  test("numbers that are not exact integers reach the params as NaN: integer fields call them invalid numbers", () => {
    const read = (n: string) => {
      const m = parseIncoming(`{"id":1,"method":"process/read","params":{"processId":"r","afterSeq":${n}}}`);
      if (m.kind !== "request") throw new Error(m.kind);
      return m.params as { afterSeq: number };
    };
    for (const n of ["1e2", "7.0", "18446744073709551616", "1E+2"]) expect(read(n).afterSeq).toBeNaN();
    for (const [n, v] of [["100", 100], ["0", 0], ["-3", -3], ["18446744073709551615", 2 ** 64]] as const) expect(read(n).afterSeq).toBe(v);
    for (const n of ["1e2", "7.5", "18446744073709551616", "-1"]) {
      expect(() => decodeParams("process/read", read(n))).toThrow("invalid number");
    }
    // Inside strings nothing is a number, and the text stays as written.
    const m = parseIncoming('{"id":2,"method":"a","params":{"s":"1e2 \\\" 7.5","n":[3,{"k":4}]}}');
    expect(m).toEqual({ kind: "request", id: { json: "2" }, method: "a", params: { s: '1e2 " 7.5', n: [3, { k: 4 }] } });
  });
});

/** A reply as JSON text, whether it was built as a string or as a byte frame. */
function replyText(reply: string | LentFrame): string {
  return typeof reply === "string" ? reply : byteFrameText(reply);
}

describe("results that encode themselves", () => {
  test("read as, and encode exactly like, the plain results", () => {
    const bytes = () => Uint8Array.from([0, 1, 2, 250, 251, 252, 253]);
    const plainBlock = { chunk: Buffer.from(bytes()).toString("base64"), eof: true };
    expect(JSON.parse(JSON.stringify(new BlockResult(bytes(), true)))).toEqual(plainBlock);
    expect(new BlockResult(bytes(), true).chunk).toBe(plainBlock.chunk);
    for (const id of [{ json: "7" }, { json: '"ü-id"' }]) {
      expect(replyText(encodeResult(id, new BlockResult(bytes(), true)))).toBe(replyText(encodeResult(id, plainBlock)));
      expect(replyText(encodeResult(id, new FileDataResult(bytes())))).toBe(replyText(encodeResult(id, { dataBase64: plainBlock.chunk })));
    }
  });

  test("every length mod 3, and replies larger than the shared frame buffer, encode exactly", () => {
    const sizes = [0, 1, 2, 3, 4, 5, 1024 * 1024, SHARED_FRAME_BUFFER_MAX, SHARED_FRAME_BUFFER_MAX + 1, SHARED_FRAME_BUFFER_MAX + 2];
    for (const size of sizes) {
      const bytes = new Uint8Array(size);
      for (let i = 0; i < size; i++) bytes[i] = (i * 7919) & 255;
      const expected = `{"id":3,"result":{"dataBase64":"${Buffer.from(bytes).toString("base64")}"}}`;
      expect(replyText(encodeResult({ json: "3" }, new FileDataResult(bytes.slice())))).toBe(expected);
    }
  });

  test("a result encodes once: its bytes are let go", () => {
    const result = new BlockResult(Uint8Array.from([1, 2, 3]), false);
    encodeResult({ json: "1" }, result);
    expect(() => encodeResult({ json: "2" }, result)).toThrow("result already encoded");
  });
});
