/**
 * Handler-level texts the probe generator found differing from the reference
 * (both versions alike): environmentConfig/read's TOML paths and cwd, and
 * sandbox URIs that parse but do not name a path on this host. Against a real
 * executor (EXECBOX_BIN when set).
 */
import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { sharedExecutor, tempDir } from "../helpers/server.ts";
import { special } from "../helpers/sandbox.ts";

setDefaultTimeout(30_000);

const executor = sharedExecutor();
const dir = tempDir();
afterAll(() => dir[Symbol.dispose]());

test("environmentConfig/read: an empty TOML path is refused first; a cwd on another host is -32602", async () => {
  const read = (p: object) => executor.client.call("environmentConfig/read", { cwd: dir.uri, configPaths: [["model"]], requirementsPaths: [], ...p });
  const answers = await Promise.all([
    read({ configPaths: [[]] }),
    read({ configPaths: [], requirementsPaths: [[]] }),
    read({ configPaths: [[]], cwd: "file://h/tmp" }),
    read({ cwd: "file://otherhost/tmp" }),
  ]);
  const toml = { code: -32602, message: "TOML paths must contain at least one key segment" };
  expect(answers.map((a) => a.error)).toEqual([toml, toml, toml, { code: -32602, message: "'file://otherhost/tmp' is invalid on 'linux'" }]);
});

test("sandbox URIs for another host or scheme: the reference's codes and texts; a cwd no entry uses is not read", async () => {
  writeFileSync(join(dir.path, "f"), "x");
  const readUnder = (entries: object[], extra: object = {}) =>
    executor.client.call("fs/readFile", {
      path: `${dir.uri}/f`,
      sandbox: {
        permissions: { type: "managed", network: "restricted", file_system: { type: "restricted", entries: [{ access: "read", path: special("root") }, ...entries] } },
        windowsSandboxLevel: "disabled",
        ...extra,
      },
    });
  const entry = (path: string) => ({ access: "read", path: { type: "path", path } });
  const answers = [
    await readUnder([entry("file://otherhost/tmp")]),
    await readUnder([entry("http://x/tmp")]),
    await readUnder([{ access: "write", path: special("current_working_directory") }], { cwd: "file://otherhost/tmp" }),
    await readUnder([], { cwd: "file://otherhost/tmp" }),
  ];
  expect(answers.map((a) => a.error ?? a.result)).toEqual([
    { code: -32600, message: "invalid sandbox permission path URI: 'file://otherhost/tmp' is invalid on 'linux'" },
    { code: -32602, message: "unsupported path URI scheme `http`" },
    { code: -32600, message: "'file://otherhost/tmp' is invalid on 'linux'" },
    { dataBase64: "eA==" },
  ]);
});
