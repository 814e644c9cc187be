/**
 * fs/remove and fs/copy guards against a real executor, only inside temp
 * trees this test creates: a path ending in `.`/`..` behind a link, and a
 * tree copied into itself through a link or a bind mount.
 */
import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { RawClient } from "../helpers/rpc-client.ts";
import { execboxCommand, sharedExecutor, startServer, tempDir } from "../helpers/server.ts";

setDefaultTimeout(30_000);

const executor = sharedExecutor();
const tmp = tempDir();
afterAll(() => tmp[Symbol.dispose]());

const INTO_ITSELF = { code: -32600, message: "fs/copy cannot copy a directory to itself or one of its descendants" };

/** T/target holding files, T/link → T/target, and a bystander file beside them. */
function linkedTree(name: string): string {
  const t = join(tmp.path, name);
  mkdirSync(join(t, "target/sub"), { recursive: true });
  writeFileSync(join(t, "target/keep.txt"), "keep");
  writeFileSync(join(t, "target/sub/x"), "x");
  writeFileSync(join(t, "bystander"), "b");
  symlinkSync(join(t, "target"), join(t, "link"));
  return t;
}

function expectIntact(t: string): void {
  expect(readdirSync(t).sort()).toEqual(["bystander", "link", "target"]);
  expect(readFileSync(join(t, "target/keep.txt"), "utf8")).toBe("keep");
  expect(readFileSync(join(t, "target/sub/x"), "utf8")).toBe("x");
}

test("removing `<link>/.` or `<link>/..` (encoded slash) is refused and nothing is deleted", async () => {
  const c = executor.client;
  const message = "fs/remove refuses to remove a path whose last component is `.` or `..`";
  for (const [suffix, extra] of [["%2F.", {}], ["%2F..", {}], ["%2F.", { recursive: false }], ["%2F..", { force: false }]] as const) {
    const t = linkedTree(`rm${suffix.length}-${Object.keys(extra).join("")}`);
    const answer = await c.call("fs/remove", { path: `file://${t}/link${suffix}`, ...extra });
    expect([suffix, extra, answer.error]).toEqual([suffix, extra, { code: -32600, message }]);
    expectIntact(t);
  }
});

test("the fs helper (a restricted policy) refuses `<link>/.` the same way", async () => {
  const t = linkedTree("helper");
  const sandbox = {
    permissions: {
      type: "managed",
      file_system: { type: "restricted", entries: [{ path: { type: "special", value: { kind: "root" } }, access: "read" }, { path: { type: "path", path: `file://${t}` }, access: "write" }] },
      network: "restricted",
    },
    cwd: `file://${t}`,
    windowsSandboxLevel: "disabled",
  };
  const answer = await executor.client.call("fs/remove", { path: `file://${t}/link%2F.`, sandbox });
  expect(answer.error).toEqual({ code: -32600, message: "fs/remove refuses to remove a path whose last component is `.` or `..`" });
  expectIntact(t);
});

test("copying to `<link>/..` is refused; so is a tree copied onto a link to itself", async () => {
  const c = executor.client;
  const t = linkedTree("copy");
  writeFileSync(join(t, "file"), "f");
  const dotted = await c.call("fs/copy", { sourcePath: `file://${t}/file`, destinationPath: `file://${t}/link%2F..`, recursive: false });
  expect(dotted.error).toEqual({ code: -32600, message: "fs/copy refuses to copy to a path whose last component is `.` or `..`" });
  const ontoLink = await c.call("fs/copy", { sourcePath: `file://${t}/target`, destinationPath: `file://${t}/link`, recursive: true });
  expect(ontoLink.error).toEqual(INTO_ITSELF);
  expect(readFileSync(join(t, "target/keep.txt"), "utf8")).toBe("keep");
});

const canUnshare = Bun.spawnSync(["unshare", "-rm", "true"], { stderr: "ignore" }).exitCode === 0;
test.skipIf(!canUnshare)("copying a tree into a bind mount of itself is refused before anything is written", async () => {
  const t = join(tmp.path, "bind");
  mkdirSync(join(t, "src"), { recursive: true });
  mkdirSync(join(t, "alias"));
  writeFileSync(join(t, "src/f"), "f");
  // The executor runs in a private mount namespace where alias is src bind-mounted; the host sees no mount.
  const command = ["unshare", "-rm", "sh", "-c", 'mount --bind "$0" "$1" && shift && exec "$@"', join(t, "src"), join(t, "alias"), ...execboxCommand()];
  await using server = await startServer([], { command });
  const c = await RawClient.websocket(server.url);
  await c.initialize();
  const answer = await c.call("fs/copy", { sourcePath: `file://${t}/src`, destinationPath: `file://${t}/alias/inner`, recursive: true });
  expect(answer.error).toEqual(INTO_ITSELF);
  expect(existsSync(join(t, "src/inner"))).toBe(false);
  c.close();
});
