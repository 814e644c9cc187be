import { expect, test } from "bun:test";
import { execboxCommand } from "../helpers/server.ts";

test("execbox doctor --json reports what this machine can enforce", async () => {
  const proc = Bun.spawn([...execboxCommand(), "doctor", "--json"], { stdout: "pipe", stderr: "pipe" });
  const [out, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
  expect(code).toBe(0);
  const report = JSON.parse(out);
  expect(Object.keys(report)).toEqual(["platform", "pty", "bwrap", "unshare", "userNamespaces", "seccomp", "landlockAbi", "sandboxBackend", "sandboxEnforced"]);
  expect(report.platform).toBe(`${process.platform}-${process.arch}`);
  expect(report.pty).toBe(true);
  // CI installs bubblewrap and has user namespaces, so bwrap is what auto picks there.
  expect(report.sandboxBackend).toBe(report.bwrap !== null && report.userNamespaces.works ? "bwrap" : report.landlockAbi ? "landlock" : "none");
  expect(report.sandboxEnforced).toBe(report.sandboxBackend !== "none");
  expect(report.landlockAbi === null || Number.isInteger(report.landlockAbi)).toBe(true);
  const plain = Bun.spawn([...execboxCommand(), "doctor"], { stdout: "pipe" });
  expect(await new Response(plain.stdout).text()).toContain(`sandbox enforced  ${report.sandboxEnforced ? "yes" : "no"} — `);
});
