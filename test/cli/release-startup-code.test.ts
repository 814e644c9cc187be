/** Which mappings `releaseStartupCode` may drop: only our own file's read-only executable ones. */
import { expect, test } from "bun:test";
import { ownCodeRanges, releaseStartupCode } from "../../src/cli/release-startup-code.ts";

const MAPS = `55d0c0000000-55d0c1000000 r--p 00000000 08:01 123 /opt/exec box/execbox
55d0c1000000-55d0c3000000 r-xp 01000000 08:01 123 /opt/exec box/execbox
55d0c3000000-55d0c3100000 rw-p 03000000 08:01 123 /opt/exec box/execbox
7f0000000000-7f0000200000 r-xp 00000000 08:01 456 /usr/lib/x86_64-linux-gnu/libc.so.6
7f0000300000-7f0000400000 r-xp 00000000 00:00 0
7f0000500000-7f0000600000 r-xp 00000000 08:01 123 /opt/exec box/execbox (deleted)
7f0000600000-7f0000700000 r-xp 00000000 08:01 789 /opt/exec box/execbox-old
`;

test("only r-xp mappings of exactly our path (spaces included) are picked", () => {
  expect(ownCodeRanges(MAPS, "/opt/exec box/execbox")).toEqual([[0x55d0c1000000n, 0x55d0c3000000n]]);
  expect(ownCodeRanges(MAPS, "/nowhere")).toEqual([]);
});

test("releasing leaves this process working (the code comes back on demand)", () => {
  releaseStartupCode();
  expect(JSON.parse(JSON.stringify({ a: [1, 2, 3] }))).toEqual({ a: [1, 2, 3] });
  expect(Bun.spawnSync(["/bin/echo", "still here"]).stdout.toString()).toBe("still here\n");
});
