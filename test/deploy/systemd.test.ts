/**
 * deploy/execbox.service passes `systemd-analyze verify` (no warnings). This
 * container has no running systemd, so the unit is verified offline in a
 * temp root holding the distribution's unit files, the unit, and a stand-in
 * for /usr/local/bin/execbox (verify checks that ExecStart is executable).
 */
import { expect, setDefaultTimeout, test } from "bun:test";
import { cpSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { compiledBinary } from "../helpers/binary.ts";
import { REPO, tempDir } from "../helpers/server.ts";

setDefaultTimeout(60_000);

const analyze = Bun.which("systemd-analyze");
const SYSTEM_UNITS = "/usr/lib/systemd/system";

test.skipIf(!analyze)(`systemd-analyze verify accepts deploy/execbox.service without a warning${analyze ? "" : " (skipped: systemd-analyze is not installed)"}`, () => {
  using root = tempDir("execbox-systemd-");
  cpSync(SYSTEM_UNITS, join(root.path, SYSTEM_UNITS), { recursive: true });
  mkdirSync(join(root.path, "etc/systemd/system"), { recursive: true });
  cpSync(join(REPO, "deploy/execbox.service"), join(root.path, "etc/systemd/system/execbox.service"));
  mkdirSync(join(root.path, "usr/local/bin"), { recursive: true });
  writeFileSync(join(root.path, "usr/local/bin/execbox"), "#!/bin/sh\n", { mode: 0o755 });
  const run = Bun.spawnSync([analyze!, "verify", `--root=${root.path}`, "execbox.service"], { stdout: "pipe", stderr: "pipe" });
  expect({ code: run.exitCode, stdout: run.stdout.toString(), stderr: run.stderr.toString() }).toEqual({ code: 0, stdout: "", stderr: "" });
});

const setpriv = Bun.which("setpriv");

/** The sandbox backend `execbox doctor` picks when started through setpriv with `privs`. */
async function backendUnder(privs: string[]): Promise<string> {
  const run = Bun.spawnSync([setpriv!, ...privs, await compiledBinary(), "doctor", "--json"], { stdout: "pipe", stderr: "pipe" });
  expect(run.exitCode).toBe(0);
  return (JSON.parse(run.stdout.toString()) as { sandboxBackend: string }).sandboxBackend;
}

// The unit's hardening choices: NoNewPrivileges=yes keeps bubblewrap; an empty
// CapabilityBoundingSet= would not (user namespaces stop working), so the unit leaves it.
test.skipIf(!setpriv || process.platform !== "linux")(
  `under no_new_privs the executor still sandboxes with bwrap; with no capability bounding set it falls back to Landlock${setpriv ? "" : " (skipped: no setpriv)"}`,
  async () => {
    if ((await backendUnder([])) !== "bwrap") return; // a host without usable bwrap has nothing to lose
    expect(await backendUnder(["--no-new-privs"])).toBe("bwrap");
    expect(await backendUnder(["--no-new-privs", "--bounding-set", "-all", "--inh-caps", "-all"])).toBe("landlock");
  },
);
