/** Sandbox intent fails closed: restrictions execbox cannot enforce are refused, never ignored. */
import { expect, setDefaultTimeout, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { sharedExecutor, tempDir } from "../helpers/server.ts";

setDefaultTimeout(30_000);

const executor = sharedExecutor();
const REFUSED = {
  code: -32600,
  message: "this execbox build cannot enforce a managed sandbox yet (restricted file system or network requested); refusing to run unsandboxed",
};
const restricted = {
  permissions: {
    type: "managed",
    file_system: { type: "restricted", entries: [{ path: { type: "special", value: { kind: "root" } }, access: "read" }] },
    network: "restricted",
  },
  windowsSandboxLevel: "disabled",
};
const managed = (file_system: object, network: string) => ({ permissions: { type: "managed", file_system, network }, windowsSandboxLevel: "disabled" });

test("a restricted profile is refused on process/start and fs/*, and nothing runs", async () => {
  using dir = tempDir();
  const c = executor.client;
  const marker = join(dir.path, "ran");
  const start = await c.call("process/start", { processId: "s", argv: ["touch", marker], cwd: dir.uri, env: { PATH: "/usr/bin:/bin" }, tty: false, sandbox: restricted });
  expect(start.error).toEqual(REFUSED);
  const write = await c.call("fs/writeFile", { path: `${dir.uri}/w`, dataBase64: "", sandbox: restricted });
  expect(write.error).toEqual(REFUSED);
  expect((await c.call("fs/readFile", { path: `${dir.uri}/w`, sandbox: managed({ type: "unrestricted" }, "restricted") })).error).toEqual(REFUSED);
  const net = await c.call("process/start", { processId: "n", argv: ["true"], cwd: dir.uri, env: {}, tty: false, enforceManagedNetwork: true });
  expect(net.error?.code).toBe(-32600);
  expect(existsSync(marker) || existsSync(join(dir.path, "w"))).toBe(false);
});

test("profiles that restrict nothing run as without a sandbox", async () => {
  using dir = tempDir();
  const c = executor.client;
  for (const [i, sandbox] of [
    null,
    { permissions: { type: "disabled" }, windowsSandboxLevel: "disabled" },
    { permissions: { type: "external", network: "restricted" }, windowsSandboxLevel: "disabled" },
    managed({ type: "unrestricted" }, "enabled"),
  ].entries()) {
    const r = await c.call("process/start", { processId: `ok${i}`, argv: ["true"], cwd: dir.uri, env: {}, tty: false, sandbox });
    expect(r.result).toEqual({ processId: `ok${i}`, sandboxType: "none" });
  }
  expect((await c.call("fs/getMetadata", { path: dir.uri, sandbox: {} })).error).toEqual({ code: -32602, message: "missing field `permissions`" });
});
