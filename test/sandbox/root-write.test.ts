/**
 * `linuxRootWritePreservesDevices` / `linuxApprovedRootWritePreservesRestrictions`:
 * a profile granting write on `/` plus narrower entries runs with a
 * writable root, a working /dev and /dev/shm, and its protected names, deny
 * entries and read-only carve-outs enforced, as the reference's wrapper does
 * (`--bind / / --dev /dev --bind-try /dev/shm /dev/shm`, masks after).
 * Commands only write inside the temp dirs made here: with `/` writable
 * they could write anywhere, so nothing is ever aimed elsewhere, and
 * protected names at `/` are only looked at (`test -w`), never written.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type SandboxedRun, runSandboxed, special } from "../helpers/sandbox.ts";
import { sharedExecutor, tempDir } from "../helpers/server.ts";

setDefaultTimeout(30_000);

const executor = sharedExecutor();
let ws: ReturnType<typeof tempDir>;
let shm: string;
beforeAll(() => {
  ws = tempDir("execbox-rootw-");
  mkdirSync(join(ws.path, "ddir"));
  writeFileSync(join(ws.path, "ddir", "x"), "hidden");
  writeFileSync(join(ws.path, "dfile"), "secret");
  writeFileSync(join(ws.path, "k.pem"), "PEM");
  mkdirSync(join(ws.path, "rodir"));
  writeFileSync(join(ws.path, "rofile"), "ro");
  mkdirSync(join(ws.path, "sub", ".git"), { recursive: true });
  writeFileSync(join(ws.path, "sub", ".git", "HEAD"), "ref\n");
  // A shared-memory dir of our own, so /dev/shm is only written inside it.
  shm = mkdtempSync("/dev/shm/execbox-rootw-");
});
afterAll(() => {
  ws[Symbol.dispose]();
  rmSync(shm, { recursive: true, force: true });
});

const rootWrite = { path: special("root"), access: "write" };
const at = (rel: string, access: string) => ({ path: { type: "path", path: `${ws.uri}/${rel}` }, access });
const sandbox = (entries: object[], network = "restricted") => ({
  permissions: { type: "managed", file_system: { type: "restricted", entries }, network },
  cwd: ws.uri,
  workspaceRoots: [ws.uri],
  windowsSandboxLevel: "disabled",
});

async function run(script: string, entries: object[], network = "restricted"): Promise<SandboxedRun> {
  const r = await runSandboxed(executor.client, ws.uri, script, sandbox(entries, network));
  if ("error" in r) throw new Error(JSON.stringify(r.error));
  return r;
}

/** A write in the temp workspace, /dev/null, /dev/urandom, and a file in our /dev/shm dir, each echoed back. */
const basics = (tag: string) =>
  [
    `echo w > wrote-${tag} && cat wrote-${tag}`,
    "echo x > /dev/null && echo devnull",
    "head -c1 /dev/urandom > /dev/null && echo urandom",
    `echo s > ${shm}/s-${tag} && cat ${shm}/s-${tag}`,
  ].join("; ");

/** Each narrower entry beside `/` write (built when the workspace exists). */
const NARROWER: [string, () => object[]][] = [
  ["a denied directory", () => [rootWrite, at("ddir", "deny")]],
  ["a denied file", () => [rootWrite, at("dfile", "deny")]],
  ["a denied missing path", () => [rootWrite, at("nope", "deny")]],
  ["a deny glob", () => [rootWrite, { path: { type: "glob_pattern", pattern: `${ws.path}/*.pem` }, access: "deny" }]],
  ["a read-only directory", () => [rootWrite, at("rodir", "read")]],
  ["a read-only file", () => [rootWrite, at("rofile", "read")]],
];

for (const network of ["restricted", "enabled"]) {
  test(`root write alone (${network}): writes, /dev and /dev/shm work`, async () => {
    const r = await run(basics(`alone-${network}`), [rootWrite], network);
    expect(r).toMatchObject({ exitCode: 0, denied: false, stdout: "w\ndevnull\nurandom\ns\n", stderr: "" });
  });

  for (const [name, entries] of NARROWER) {
    test(`root write plus ${name} (${network}): the root stays writable, devices and /dev/shm work`, async () => {
      const tag = `${name.replaceAll(" ", "-")}-${network}`;
      const r = await run(basics(tag), entries(), network);
      expect(r).toMatchObject({ exitCode: 0, denied: false, stdout: "w\ndevnull\nurandom\ns\n", stderr: "" });
      expect(readFileSync(join(ws.path, `wrote-${tag}`), "utf8")).toBe("w\n");
    });
  }
}

test("root write plus a deny entry: protected names at / are empty read-only dirs, and none is left on the host", async () => {
  const before = ["/.git", "/.agents", "/.codex", "/.aws"].filter((p) => existsSync(p));
  const r = await run("for n in .git .agents .codex .aws; do stat -c '%n %a %F' /$n; test -w /$n || echo ro; done", [rootWrite, at("dfile", "deny")]);
  expect(r.stdout).toBe(["/.git", "/.agents", "/.codex", "/.aws"].map((n) => (before.includes(n) ? "" : `${n} 555 directory\nro\n`)).join(""));
  expect(["/.git", "/.agents", "/.codex", "/.aws"].filter((p) => existsSync(p))).toEqual(before);
});

test("root write: denied paths give EACCES, read-only carve-outs EROFS, the rest stays writable", async () => {
  const denied = await run("cat ddir/x; ls ddir; cat dfile; cat k.pem", [rootWrite, at("ddir", "deny"), at("dfile", "deny"), { path: { type: "glob_pattern", pattern: "*.pem" }, access: "deny" }]);
  expect(denied).toMatchObject({
    exitCode: 1,
    denied: true,
    stdout: "",
    stderr: "cat: ddir/x: Permission denied\nls: cannot open directory 'ddir': Permission denied\ncat: dfile: Permission denied\ncat: k.pem: Permission denied\n",
  });
  const ro = await run("echo r > rodir/new; echo r > rofile; echo r > nope-ro; echo ok > free && cat free", [rootWrite, at("rodir", "read"), at("rofile", "read"), { ...at("nope-ro", "read"), missing_path_behavior: "skip" }]);
  expect(ro.stdout).toBe("ok\n");
  expect(ro.stderr).toBe(
    ["rodir/new", "rofile", "nope-ro"].map((p) => `/usr/bin/sh: 1: cannot create ${p}: Read-only file system\n`).join(""),
  );
  expect([existsSync(join(ws.path, "rodir", "new")), readFileSync(join(ws.path, "rofile"), "utf8"), existsSync(join(ws.path, "nope-ro"))]).toEqual([false, "ro", false]);
});

test("root write plus a writable subpath is the whole disk (as the reference): sub/.git stays writable; with a deny entry it is protected", async () => {
  const whole = await run("echo a > sub/.git/HEAD && cat sub/.git/HEAD", [rootWrite, at("sub", "write")]);
  expect(whole).toMatchObject({ exitCode: 0, stdout: "a\n" });
  const narrowed = await run("echo b > sub/.git/HEAD", [rootWrite, at("sub", "write"), at("dfile", "deny")]);
  expect(narrowed).toMatchObject({ exitCode: 2, denied: true, stderr: "/usr/bin/sh: 1: cannot create sub/.git/HEAD: Read-only file system\n" });
  expect(readFileSync(join(ws.path, "sub", ".git", "HEAD"), "utf8")).toBe("a\n");
});

test("escape: a protected or denied path reached through a symlink the command could re-point is refused", async () => {
  mkdirSync(join(ws.path, "sub2"));
  mkdirSync(join(ws.path, "gitreal"));
  symlinkSync(join(ws.path, "gitreal"), join(ws.path, "sub2", ".git"));
  symlinkSync(join(ws.path, "ddir"), join(ws.path, "dlink"));
  const cases: [object[], string][] = [
    [[rootWrite, at("sub2", "write"), at("dfile", "deny")], `read-only path ${ws.path}/sub2/.git because it crosses writable symlink ${ws.path}/sub2/.git`],
    [[rootWrite, at("dlink", "deny")], `deny-read path ${ws.path}/dlink because it crosses writable symlink ${ws.path}/dlink`],
  ];
  for (const [entries, why] of cases) {
    const r = await runSandboxed(executor.client, ws.uri, "echo ran > ran", sandbox(entries));
    expect(r).toEqual({ error: { code: -32602, message: `sandbox intent cannot be enforced on this executor: cannot enforce sandbox ${why}` } });
  }
  expect(existsSync(join(ws.path, "ran"))).toBe(false);
});

test("both root-write capabilities are reported on a host where bubblewrap enforces them", async () => {
  const info = await executor.client.ok("environment/info", {});
  expect([info.capabilities.linuxRootWritePreservesDevices, info.capabilities.linuxApprovedRootWritePreservesRestrictions]).toEqual([true, true]);
});
