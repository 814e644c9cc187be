/** Every class of bad input gets a clear JSON-RPC error and the server keeps serving. */
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { RawClient } from "../helpers/rpc-client.ts";
import { type RunningServer, sharedExecutor, tempDir } from "../helpers/server.ts";
import { unknownSignal } from "../../src/protocol/signals.ts";

// Integration tests start real servers and processes; each wait inside has its own deadline.
setDefaultTimeout(30_000);

let server: RunningServer;
let c: RawClient;
const dir = tempDir();
const ENV = { PATH: "/usr/bin:/bin" };

const executor = sharedExecutor();
beforeAll(() => ({ server, client: c } = executor));
afterAll(() => dir[Symbol.dispose]());

async function rawError(text: string) {
  const before = c.frames.length;
  c.sendRaw(text);
  await c.waitFor((f) => c.frames.indexOf(f) >= before);
  return c.texts[before];
}

describe("malformed frames get id -1 and the connection stays open", () => {
  const cases: [string, string][] = [
    ["{not json", "key must be a string at line 1 column 2"],
    ['[{"id":1,"method":"environment/status"}]', "expected a JSON-RPC object"],
    ['"text"', "expected a JSON-RPC object"],
    ["42", "expected a JSON-RPC object"],
    ["{}", "missing field `error`"],
    ['{"id":1}', "missing field `error`"],
    ['{"id":1.5,"method":"environment/status"}', "data did not match any variant of untagged enum RequestId"],
    ['{"id":null,"method":"environment/status"}', "data did not match any variant of untagged enum RequestId"],
    ['{"id":1,"method":"x"', "EOF while parsing an object at line 1 column 20"],
  ];
  for (const [text, detail] of cases) {
    test(text, async () => {
      const reply = await rawError(text);
      const prefix = `failed to parse websocket JSON-RPC message from exec-server websocket 127.0.0.1:`;
      const parsed = JSON.parse(reply!);
      expect(parsed.id).toBe(-1);
      expect(parsed.error.code).toBe(-32600);
      expect(parsed.error.message.startsWith(prefix)).toBe(true);
      expect(parsed.error.message.replace(/^.*?:\d+: /, "")).toBe(detail);
      expect(reply).toStartWith('{"error":{"code":-32600,"message":');
      expect(await c.ok("environment/status")).toEqual({ status: "ready" });
    });
  }
});

test("ids are echoed exactly: 64-bit integers, negatives, strings", async () => {
  for (const id of ["9007199254740993", "-7", '"abc"', "0"]) {
    const before = c.frames.length;
    c.sendRaw(`{"id":${id},"method":"environment/status"}`);
    await c.waitFor((f) => c.frames.indexOf(f) >= before);
    expect(c.texts[before]).toBe(`{"id":${id},"result":{"status":"ready"}}`);
  }
});

test("a jsonrpc member and unknown envelope members are ignored", async () => {
  const before = c.frames.length;
  c.sendRaw('{"jsonrpc":"1.0","id":5,"method":"environment/status","trace":{"traceparent":"00-x"},"extra":1}');
  await c.waitFor((f) => c.frames.indexOf(f) >= before);
  expect(c.texts[before]).toBe('{"id":5,"result":{"status":"ready"}}');
});

test("unknown methods", async () => {
  const r = await c.call("no/suchMethod", {});
  expect(r.error).toEqual({ code: -32601, message: "exec-server stub does not implement `no/suchMethod` yet" });
});

describe("params errors", () => {
  const start = (p: Record<string, unknown>) => ({ processId: "e", argv: ["true"], cwd: dir.uri, env: ENV, tty: false, ...p });
  const cases: [string, string, unknown, number, string][] = [
    ["missing params", "process/start", undefined, -32602, "invalid type: null, expected struct WireExecParams"],
    ["missing field", "process/start", {}, -32602, "missing field `processId`"],
    ["wrong type", "process/start", start({ tty: "yes" }), -32602, 'invalid type: string "yes", expected a boolean'],
    ["non-string argv item", "process/start", start({ argv: [1] }), -32602, "invalid type: number, expected a string"],
    ["non-string env value", "process/start", start({ env: { A: 5 } }), -32602, "invalid type: number, expected a string"],
    ["null pipeStdin", "process/start", start({ pipeStdin: null }), -32602, "invalid type: null, expected a boolean"],
    ["empty argv", "process/start", start({ argv: [] }), -32602, "argv must not be empty"],
    ["relative cwd", "process/start", start({ cwd: "relative/dir" }), -32602, "invalid URI: relative URL without a base"],
    ["native cwd", "process/start", start({ cwd: dir.path }), -32602, "invalid URI: relative URL without a base"],
    ["non-file cwd", "process/start", start({ cwd: "http://example.com/x" }), -32602, "unsupported path URI scheme `http`"],
    ["query in cwd", "process/start", start({ cwd: `${dir.uri}?x=1` }), -32602, "query parameters are not allowed in path URIs"],
    ["remote host cwd", "process/start", start({ cwd: "file://otherhost/tmp" }), -32602, "cwd URI `file://otherhost/tmp` is not valid on this exec-server host: 'file://otherhost/tmp' is invalid on 'linux'"],
    ["nonexistent executable", "process/start", start({ argv: ["definitely-not-a-program-xyz"] }), -32603, "No such file or directory (os error 2)"],
    ["negative afterSeq", "process/read", { processId: "e", afterSeq: -1 }, -32602, "invalid number"],
    ["fractional waitMs", "process/read", { processId: "e", waitMs: 1.5 }, -32602, "invalid number"],
    ["string afterSeq", "process/read", { processId: "e", afterSeq: "1" }, -32602, 'invalid type: string "1", expected u64'],
    ["unknown signal", "process/signal", { processId: "x", signal: "kill" }, -32602, unknownSignal("kill")], // extension `signals` lists the names it takes,
    ["bad base64", "process/write", { processId: "x", chunk: "!!", writeId: "w" }, -32602, "Invalid symbol 33, offset 0."],
    ["unpadded base64", "process/write", { processId: "x", chunk: "aGk", writeId: "w" }, -32602, "Invalid padding"],
    ["empty writeId", "process/write", { processId: "x", chunk: "", writeId: "" }, -32602, "writeId must not be empty"],
    ["config paths as strings", "environmentConfig/read", { cwd: dir.uri, configPaths: ["model"], requirementsPaths: [] }, -32602, 'invalid type: string "model", expected a sequence'],
    ["no config paths", "environmentConfig/read", { cwd: dir.uri, configPaths: [], requirementsPaths: [] }, -32602, "at least one config or requirements path is required"],
  ];
  for (const [name, method, params, code, message] of cases) {
    test(name, async () => {
      const r = await c.call(method, params);
      // Spawn failures also say why in `data.kind` (0.171.0).
      expect(r.error).toEqual(method === "process/start" && code === -32603 ? { code, message, data: { kind: "spawnNotFound" } } : { code, message });
    });
  }
});

test("an oversized frame drops that connection only", async () => {
  const victim = await RawClient.websocket(server.url);
  await victim.initialize();
  victim.sendRaw(`{"id":999,"method":"environment/status","params":{"pad":"${"x".repeat(16 * 1024 * 1024)}"}}`);
  await victim.waitClosed();
  expect(victim.frames.filter((f) => f.id === 999)).toEqual([]);
  expect(await c.ok("environment/status")).toEqual({ status: "ready" });
});

test("a frame just under the limit is accepted", async () => {
  const r = await c.call("environment/status", { pad: "x".repeat(16 * 1024 * 1024 - 200) });
  expect(r.error).toEqual({ code: -32602, message: "invalid type: map, expected unit" });
});

test("binary frames holding JSON are accepted", async () => {
  const before = c.frames.length;
  c.ws!.send(new TextEncoder().encode('{"id":77,"method":"environment/status"}'));
  await c.waitFor((f) => f.id === 77);
  expect(c.texts[before]).toBe('{"id":77,"result":{"status":"ready"}}');
});

test("a flood of garbage is answered frame by frame", async () => {
  const before = c.frames.length;
  for (let i = 0; i < 2000; i++) c.sendRaw(i % 2 ? "{" : "[]");
  await c.waitFor(() => c.frames.length >= before + 2000);
  expect(c.frames.slice(before).every((f) => f.id === -1 && f.error.code === -32600)).toBe(true);
  expect(await c.ok("environment/status")).toEqual({ status: "ready" });
});

test("params as a short array are an invalid length; metadata.threadId must be a UUID", async () => {
  const r = await c.call("process/read", []);
  expect(r.error).toEqual({ code: -32602, message: "invalid length 0, expected struct ReadParams with 4 elements" });
  const bad = await c.call("process/start", { processId: "u", argv: ["true"], cwd: dir.uri, env: ENV, tty: false, metadata: { threadId: "not-a-uuid" } });
  expect(bad.error).toEqual({ code: -32602, message: "invalid character: expected an optional prefix of `urn:uuid:` followed by [0-9a-fA-F-], found `n` at 1" });
  const good = await c.call("process/start", { processId: "u", argv: ["true"], cwd: dir.uri, env: ENV, tty: false, metadata: { threadId: "urn:uuid:6f1c5d0e-9c1a-4a57-8d43-0c1b2a3d4e5f", toolCallId: "call_1" } });
  expect(good.result).toEqual({ processId: "u", sandboxType: "none" });
  const empty = await c.call("process/start", { processId: "v", argv: [""], cwd: dir.uri, env: ENV, tty: false });
  expect(empty.error).toEqual({ code: -32603, message: "missing program for pipe spawn", data: { kind: "spawnFailed" } });
});

test("a method that is not a string is malformed", async () => {
  const before = c.frames.length;
  c.sendRaw('{"id":2,"method":null}');
  // Other notifications (earlier processes) may arrive first: wait for the error reply itself.
  const reply = await c.waitFor((f) => c.frames.indexOf(f) >= before && f.id === -1);
  expect(reply.error.message).toEndWith(": invalid type: null, expected a string");
});
