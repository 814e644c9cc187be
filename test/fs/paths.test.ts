/**
 * The host-safety guards, tested as functions: a removal of `/` must never be
 * sent to a real server, not even to see the error.
 */
import { describe, expect, test } from "bun:test";
import { symlinkSync } from "node:fs";
import { join } from "node:path";
import { isWithin, refuseRootRemoval } from "../../src/fs/paths.ts";
import { parsePathUri } from "../../src/protocol/path-uri.ts";
import { tempDir } from "../helpers/server.ts";

const REFUSED = { code: -32600, message: "fs/remove refuses to remove the root directory `/`" };

describe("root removal guard", () => {
  test("every URI spelling of the root resolves to / and is refused", async () => {
    using t = tempDir();
    for (const uri of ["file:///", "file://", "file://localhost/", `${t.uri}/../../../../../../../..`, "file:///tmp/%2e%2e"]) {
      const path = parsePathUri(uri);
      expect(path).toBe("/");
      expect(refuseRootRemoval(path)).rejects.toMatchObject(REFUSED);
    }
  });
  test("ordinary paths and symlinks pointing at / pass (a link is removed, not its target)", async () => {
    using t = tempDir();
    symlinkSync("/", join(t.path, "rootlink"));
    await refuseRootRemoval(join(t.path, "rootlink"));
    await refuseRootRemoval(t.path);
    await refuseRootRemoval(join(t.path, "missing"));
  });
});

test("isWithin compares whole components", () => {
  expect(isWithin("/a/b", "/a")).toBe(true);
  expect(isWithin("/a", "/a")).toBe(true);
  expect(isWithin("/ab", "/a")).toBe(false);
  expect(isWithin("/x", "/")).toBe(true);
});
