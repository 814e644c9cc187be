/**
 * The Landlock backend (where bubblewrap cannot run), forced with
 * `--sandbox-backend landlock`: the policies it can express are enforced for
 * real; the ones it cannot are refused, never run with less.
 */
import { beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type SandboxedRun, expectNoDatagramEscape, runSandboxed, sandboxDirs, special } from "../helpers/sandbox.ts";
import { sharedExecutor } from "../helpers/server.ts";

setDefaultTimeout(30_000);

/** In the executor's environment only: a sandboxed command must not be able to read it. */
const MARKER = `marker-${process.pid}-${Date.now()}`;
const executor = sharedExecutor(["--sandbox-backend", "landlock"], { env: { ...(process.env as Record<string, string>), EXECBOX_TEST_MARKER: MARKER } });
const dirs = sandboxDirs((w) => mkdirSync(join(w.path, "private")));
let ws: typeof dirs.ws;
let outside: typeof dirs.outside;
beforeAll(() => ({ ws, outside } = dirs));

const sandbox = (extra: object[] = []) => ({
  permissions: {
    type: "managed",
    file_system: { type: "restricted", entries: [{ path: special("root"), access: "read" }, { path: special("project_roots"), access: "write" }, ...extra] },
    network: "restricted",
  },
  cwd: ws.uri,
  workspaceRoots: [ws.uri],
  windowsSandboxLevel: "disabled",
});

const run = (script: string, box: object = sandbox()) => runSandboxed(executor.client, ws.uri, script, box) as Promise<SandboxedRun & { error?: unknown }>;

test("writes inside the workspace only; symlinks do not lead out; the network is cut by seccomp", async () => {
  const inside = await run("echo ok > made && cat made");
  expect(inside).toMatchObject({ sandboxType: "linuxSeccomp", exitCode: 0, denied: false, stdout: "ok\n" });
  const out = await run(`echo x > ${outside.path}/new`);
  expect(out).toMatchObject({ exitCode: 2, denied: true });
  expect(out.stderr).toContain("Permission denied");
  expect(existsSync(join(outside.path, "new"))).toBe(false);
  const viaLink = await run("echo pwned > link-out/victim");
  expect(viaLink.exitCode).toBe(2);
  expect(readFileSync(join(outside.path, "victim"), "utf8")).toBe("original");
  const net = await run("bash -c 'exec 3<>/dev/tcp/127.0.0.1/9'");
  expect(net.stderr).toContain("socket: Operation not permitted");
  expect(net.denied).toBe(true);
});

test("what Landlock cannot express is refused, with the reason", async () => {
  const r = await run("true", sandbox([{ path: { type: "glob_pattern", pattern: "**/*.pem" }, access: "deny" }, { path: { type: "path", path: `${ws.uri}/private` }, access: "deny" }]));
  expect(r.error).toEqual({
    code: -32602,
    message: `sandbox intent cannot be enforced on this executor: denied ${ws.path}/private inside a readable root cannot be expressed with Landlock (bubblewrap can; see \`execbox doctor\`)`,
  });
});

test("a writable / with a deny entry or a read-only carve-out is refused: Landlock cannot take them out of a writable root", async () => {
  const rootWrite = { path: special("root"), access: "write" };
  const cases: [object, string][] = [
    [{ path: { type: "path", path: `${ws.uri}/private` }, access: "deny" }, `denied ${ws.path}/private inside a readable root`],
    [{ path: { type: "path", path: `${ws.uri}/private` }, access: "read" }, `read-only ${ws.path}/private inside a writable root`],
  ];
  for (const [entry, why] of cases) {
    const r = await run("echo ran > ran", { ...sandbox([]), permissions: { type: "managed", file_system: { type: "restricted", entries: [rootWrite, entry] }, network: "restricted" } });
    expect(r.error).toEqual({ code: -32602, message: `sandbox intent cannot be enforced on this executor: ${why} cannot be expressed with Landlock (bubblewrap can; see \`execbox doctor\`)` });
  }
  expect(existsSync(join(ws.path, "ran"))).toBe(false);
});

test("fs/* through the helper under Landlock", async () => {
  const c = executor.client;
  const inside = join(ws.path, "fs-made");
  expect((await c.call("fs/writeFile", { path: `file://${inside}`, dataBase64: "aGk=", sandbox: sandbox() })).result).toEqual({});
  expect(readFileSync(inside, "utf8")).toBe("hi");
  const outsideFile = join(outside.path, "fs-made");
  expect((await c.call("fs/writeFile", { path: `file://${outsideFile}`, dataBase64: "aGk=", sandbox: sandbox() })).error).toEqual({
    code: -32600,
    message: "Permission denied (os error 13)",
  });
  expect(existsSync(outsideFile)).toBe(false);
});

test("escape: no signal to a process outside the sandbox (Landlock scoping)", async () => {
  const victim = Bun.spawn(["sleep", "1000"], { stdout: "ignore", stderr: "ignore" });
  try {
    const r = await run(`kill -TERM ${victim.pid}`);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("Operation not permitted");
    expect(victim.exitCode).toBeNull();
    expect(victim.signalCode).toBeNull();
  } finally {
    victim.kill("SIGKILL");
    await victim.exited;
  }
});

test("escape: the child of a root executor keeps no capabilities", async () => {
  const r = await run("grep -E '^Cap(Inh|Prm|Eff|Bnd|Amb):' /proc/self/status");
  expect(r.stdout).toBe(["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"].map((k) => `${k}:\t0000000000000000\n`).join(""));
});

test("escape: the executor's environment cannot be read through /proc", async () => {
  const pid = executor.server.proc.pid;
  expect(readFileSync(`/proc/${pid}/environ`, "utf8")).toContain(MARKER);
  const r = await run(`cat /proc/${pid}/environ; echo; tr '\\0' '\\n' < /proc/${pid}/environ | grep -c EXECBOX_TEST_MARKER`);
  expect(r.stdout).not.toContain(MARKER);
  expect(r.stderr).toContain("Permission denied");
});

test("escape: no datagram to a host Unix socket with the network cut (same filter as bwrap)", async () => {
  await expectNoDatagramEscape(run, ws.path, outside.path);
});

test("Landlock cannot enforce a writable / with carve-outs: both root-write capabilities are false", async () => {
  const info = await executor.client.ok("environment/info", {});
  expect([info.capabilities.linuxRootWritePreservesDevices, info.capabilities.linuxApprovedRootWritePreservesRestrictions]).toEqual([false, false]);
});
