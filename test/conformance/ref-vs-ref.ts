/**
 * Plays the conformance scenarios against two reference binaries (no
 * execbox), to find what changed between Codex versions: a difference here
 * is the reference's own drift, which execbox must follow (or list as a
 * version-dependent difference). In the printed diffs "reference" is
 * REF_A and "execbox" is REF_B. Usage:
 *
 *   REF_A=<codex 0.169.0> REF_B=<codex 0.171.0> bun test/conformance/ref-vs-ref.ts [--only <substring>] [--verbose]
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Ensure, runLeg } from "./compare.ts";
import { startHttpFixture } from "./http-fixture.ts";
import { SCENARIOS } from "./scenarios.ts";
import { type Server, type Side, startServer } from "./servers.ts";

const args = process.argv.slice(2);
const onlyAt = args.indexOf("--only");
const only = onlyAt >= 0 ? args[onlyAt + 1] : undefined;
const verbose = args.includes("--verbose");
const bins: Record<Side, string | undefined> = { reference: process.env.REF_A, execbox: process.env.REF_B };
if (!bins.reference || !bins.execbox) throw new Error("set REF_A and REF_B to the two codex binaries");

const runDir = mkdtempSync(join(tmpdir(), "execbox-ref-vs-ref-"));
mkdirSync(join(runDir, "cwd"));
mkdirSync(join(runDir, "codex-home"));
const fixture = startHttpFixture();
const servers: Partial<Record<Side, Server>> = {};

/** Both slots run a reference: CODEX_BIN is read when the server starts. */
const ensure: Ensure = async (side) => {
  const cur = servers[side];
  if (cur?.alive()) return { server: cur, restarted: false };
  process.env.CODEX_BIN = bins[side];
  const server = await startServer("reference", runDir);
  servers[side] = server;
  return { server, restarted: cur !== undefined };
};

try {
  const scenarios = SCENARIOS.filter((s) => !only || s.name.includes(only));
  const started = performance.now();
  const { differing } = await runLeg(scenarios, ensure, { keepKeyOrder: false, runDir, http: fixture.base, rawHttp: fixture.raw }, (v) => verbose && v === "diff");
  console.log(`ref-vs-ref: ${scenarios.length} scenarios, ${scenarios.length - differing.length} same, ${differing.length} differ (${((performance.now() - started) / 1000).toFixed(0)} s)`);
  if (differing.length) console.log(`differing: ${differing.join(", ")}`);
} finally {
  await Promise.all(Object.values(servers).map((s) => s?.stop()));
  fixture.stop();
  rmSync(runDir, { recursive: true, force: true });
}
