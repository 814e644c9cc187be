/**
 * The differential suite as part of `bun test`: every scenario played against
 * the reference and execbox, for each reference version execbox is checked
 * against, failing on any difference expected.ts does not list. The newest
 * version runs every leg (WebSocket, Noise relay, direct); the older one the
 * WebSocket leg (its remote legs differ from the newest's only in what the
 * version shim sets aside). Skipped outside CI when a version is not
 * installed (`bun run reference`).
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { NEWEST_REFERENCE, REFERENCE_VERSIONS, referenceForTests } from "../helpers/reference-bin.ts";

const RUNNER = join(import.meta.dir, "run.ts");
/** A leg takes about a minute on 2 shared cores (all three about three); this bounds a hung run. */
const LEG_TIMEOUT_MS = 8 * 60_000;

async function conformance(version: string, leg: string): Promise<{ code: number; output: string }> {
  // CODEX_BIN would replace the version asked for; the suite names versions itself.
  const { CODEX_BIN: _, ...env } = process.env;
  const proc = Bun.spawn([process.execPath, RUNNER, "--strict", "--leg", leg, "--reference", version], { stdout: "pipe", stderr: "pipe", env });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, output: `${stdout}${stderr}` };
}

/** The summary lines and anything unexpected, for the failure message. */
const summary = (output: string) =>
  output
    .split("\n")
    .filter((l) => /^(conformance|differing|DIFF|reference |\(.*leg)/.test(l))
    .join("\n");

for (const version of REFERENCE_VERSIONS) {
  // "all": WebSocket, Noise relay, and the direct transport's default subset.
  const legs = version === NEWEST_REFERENCE ? ["all"] : ["ws"];
  describe(`conformance against the reference ${version}`, () => {
    const installed = referenceForTests(version) !== null;
    for (const leg of legs) {
      test.skipIf(!installed)(
        `${leg === "all" ? "every" : leg} leg: no difference outside the documented list`,
        async () => {
          const { code, output } = await conformance(version, leg);
          expect(code, summary(output)).toBe(0);
          expect(output).not.toContain("unexpected): ");
        },
        LEG_TIMEOUT_MS,
      );
    }
  });
}
