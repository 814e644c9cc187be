/** Path guards that need no file system: names refused before anything is touched. */
import { expect, test } from "bun:test";
import { refuseDotName } from "../../src/fs/paths.ts";

test("a last component `.` or `..` is refused before anything is touched", () => {
  for (const path of ["/tmp/link/.", "/tmp/link/..", "/.", "/.."]) {
    expect(() => refuseDotName(path, "fs/remove")).toThrow("fs/remove refuses to remove a path whose last component is `.` or `..`");
    expect(() => refuseDotName(path, "fs/copy")).toThrow("fs/copy refuses to copy to a path whose last component is `.` or `..`");
  }
  for (const path of ["/tmp/link/.x", "/tmp/..x", "/tmp/a./b", "/"]) refuseDotName(path, "fs/remove");
});
