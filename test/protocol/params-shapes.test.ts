/**
 * Params shapes and texts the probe generator found differing from the
 * reference (0.171.0 and 0.169.0 answer alike): each row is the reference's
 * exact answer, decoded through the router's own decodeParams.
 */
import { describe, expect, test } from "bun:test";
import { RpcError } from "../../src/protocol/errors.ts";
import type { MethodName } from "../../src/protocol/methods.ts";
import { decodeParams } from "../../src/server/router.ts";
import { unknownSignal } from "../../src/protocol/signals.ts";

const start = (p: Record<string, unknown>) => ({ processId: "p", argv: ["true"], cwd: "file:///tmp", env: {}, tty: false, ...p });
const rootRead = { access: "read", path: { type: "special", value: { kind: "root" } } };
const managed = (entries: object[], extra: object = {}) => ({
  permissions: { type: "managed", network: "restricted", file_system: { type: "restricted", entries: [rootRead, ...entries] } },
  windowsSandboxLevel: "disabled",
  ...extra,
});

function answer(method: MethodName, params: unknown): string {
  try {
    decodeParams(method, params);
    return "ok";
  } catch (e) {
    if (!(e instanceof RpcError)) throw e;
    return `${e.code} ${e.message}`;
  }
}

const cases: [string, MethodName, unknown, string][] = [
  // Item 10: a map where a unit enum is expected.
  ["signal {}", "process/signal", { processId: "p", signal: {} }, "-32602 invalid value: map, expected map with a single key"],
  ["signal two keys", "process/signal", { processId: "p", signal: { a: null, b: null } }, "-32602 invalid value: map, expected map with a single key"],
  ["signal {interrupt: null}", "process/signal", { processId: "p", signal: { interrupt: null } }, "ok"],
  ["signal {interrupt: 5}", "process/signal", { processId: "p", signal: { interrupt: 5 } }, "-32602 invalid type: number, expected unit"],
  ["signal {bad: null}", "process/signal", { processId: "p", signal: { bad: null } }, `-32602 ${unknownSignal("bad")}`], // extension `signals` lists the names it takes
  ["envPolicy.inherit {}", "process/start", start({ envPolicy: { inherit: {}, ignoreDefaultExcludes: false, exclude: [], set: {}, includeOnly: [] } }), "-32602 invalid value: map, expected map with a single key"],
  ["fs/open mode {}", "fs/open", { handleId: "h", path: "file:///tmp/x", mode: {} }, "-32602 invalid value: map, expected map with a single key"],
  // Item 11: usize fields.
  ["process/read maxBytes", "process/read", { processId: "p", maxBytes: "1" }, '-32602 invalid type: string "1", expected usize'],
  ["fs/readBlock len", "fs/readBlock", { handleId: "h", offset: 0, len: null }, "-32602 invalid type: null, expected usize"],
  // Item 6: all-default structs read from a short array; the reference's type name; a port past u16.
  ["metadata []", "process/start", start({ metadata: [] }), "ok"],
  ["metadata [null]", "process/start", start({ metadata: [null] }), "ok"],
  ["metadata [1,2,3]", "process/start", start({ metadata: [1, 2, 3] }), "-32602 invalid type: number, expected a string"],
  ["managedNetwork []", "process/start", start({ managedNetwork: [] }), "ok"],
  ["managedNetwork 5", "process/start", start({ managedNetwork: 5 }), "-32602 invalid type: number, expected struct ManagedNetworkSandboxContext"],
  ["managedNetwork [[1]]", "process/start", start({ managedNetwork: [[1]] }), "-32602 invalid type: sequence, expected a boolean"],
  ["loopbackPorts [70000]", "process/start", start({ managedNetwork: { loopbackPorts: [70000] } }), "-32602 invalid number"],
  ["params too long", "process/read", ["p", 1, 2, 3, 4], "-32602 invalid length 5, expected fewer elements in array"],
  ["params too short", "process/read", ["p"], "-32602 invalid length 1, expected struct ReadParams with 4 elements"],
  ["params short, element wrong first", "process/read", [5], "-32602 invalid type: number, expected a string"],
  // Item 4: shellSnapshot.
  ["shellSnapshot 5", "process/start", start({ shellSnapshot: 5 }), "-32602 invalid type: number, expected struct ShellSnapshotRequest"],
  ["shellSnapshot {}", "process/start", start({ shellSnapshot: {} }), "-32602 missing field `scopeId`"],
  ["shellSnapshot []", "process/start", start({ shellSnapshot: [] }), "-32602 invalid length 0, expected struct ShellSnapshotRequest with 2 elements"],
  ["shellSnapshot no shell", "process/start", start({ shellSnapshot: { scopeId: "x" } }), "-32602 missing field `shell`"],
  ["shellSnapshot shell null", "process/start", start({ shellSnapshot: { scopeId: "x", shell: null } }), "-32602 invalid type: null, expected struct ShellInfo"],
  ["shellSnapshot shell {}", "process/start", start({ shellSnapshot: { scopeId: "x", shell: {} } }), "-32602 missing field `name`"],
  ["shellSnapshot well-formed", "process/start", start({ shellSnapshot: { scopeId: "x", shell: { name: "bash", path: "/bin/bash" } } }), "ok"],
  // Item 3: discoverV2's sandbox.
  ["discoverV2 sandbox x", "capabilities/discoverV2", { cwd: "file:///tmp", sandbox: "x" }, '-32602 invalid type: string "x", expected struct FileSystemSandboxContext'],
  ["discoverV2 sandbox {}", "capabilities/discoverV2", { cwd: "file:///tmp", sandbox: {} }, "-32602 missing field `permissions`"],
  ["discoverV2 sandbox no cwd", "capabilities/discoverV2", { cwd: "file:///tmp", sandbox: { permissions: { type: "disabled" }, windowsSandboxLevel: "disabled" } }, "-32602 missing field `cwd`"],
  ["discoverV2 sandbox []", "capabilities/discoverV2", { cwd: "file:///tmp", sandbox: [] }, "-32602 invalid length 0, expected struct FileSystemSandboxContext with 9 elements"],
  ["discoverV2 relative entry", "capabilities/discoverV2", { cwd: "file:///tmp", sandbox: managed([{ access: "write", path: { type: "path", path: "rel" } }]) }, "-32602 invalid URI: relative URL without a base"],
  ["discoverV2 sandbox ok", "capabilities/discoverV2", { cwd: "file:///tmp", sandbox: managed([], { cwd: "file:///tmp" }) }, "ok"],
  // Item 17: a sandbox URI that is not one is a params error, in the reference's words.
  ["entry not a URI", "fs/readFile", { path: "file:///tmp/x", sandbox: managed([{ access: "write", path: { type: "path", path: "/tmp" } }]) }, "-32602 invalid URI: relative URL without a base"],
  ["sandbox cwd not a URI", "fs/readFile", { path: "file:///tmp/x", sandbox: managed([], { cwd: "rel" }) }, "-32602 invalid URI: relative URL without a base"],
  ["userHomeDir not a URI", "fs/readFile", { path: "file:///tmp/x", sandbox: managed([], { userHomeDir: "rel" }) }, "-32602 invalid URI: relative URL without a base"],
];

describe("params shapes decode as the reference's serde does", () => {
  for (const [name, method, params, expected] of cases) {
    test(name, () => expect(answer(method, params)).toBe(expected));
  }
});
