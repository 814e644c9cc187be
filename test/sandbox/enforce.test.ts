/**
 * Sandbox enforcement on Linux, for real: commands run under bubblewrap
 * through a running executor; every escape is attempted and its absence
 * checked on disk. (CI installs bubblewrap; see .ci/run.)
 */
import { beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SANDBOX_ENV, type SandboxedRun, expectNoDatagramEscape, runSandboxed, sandboxDirs, special } from "../helpers/sandbox.ts";
import { sharedExecutor, tempDir } from "../helpers/server.ts";

setDefaultTimeout(30_000);

const executor = sharedExecutor();
const ENV = SANDBOX_ENV;
const dirs = sandboxDirs((ws) => {
  mkdirSync(join(ws.path, ".git"));
  writeFileSync(join(ws.path, ".git", "HEAD"), "ref: refs/heads/main\n");
  writeFileSync(join(ws.path, "secret.pem"), "KEY");
  mkdirSync(join(ws.path, "private"));
  writeFileSync(join(ws.path, "private", "x"), "hidden");
});
let ws: typeof dirs.ws;
let outside: typeof dirs.outside;
beforeAll(() => ({ ws, outside } = dirs));

/** Read everything, write the workspace, `*.pem` and `private/` denied, network cut. */
function workspaceWrite(extra: object[] = [], network = "restricted") {
  return {
    permissions: {
      type: "managed",
      file_system: {
        type: "restricted",
        entries: [
          { path: special("root"), access: "read" },
          { path: special("project_roots"), access: "write" },
          { path: { type: "glob_pattern", pattern: "**/*.pem" }, access: "deny" },
          { path: { type: "path", path: `${ws.uri}/private` }, access: "deny" },
          ...extra,
        ],
      },
      network,
    },
    cwd: ws.uri,
    workspaceRoots: [ws.uri],
    windowsSandboxLevel: "disabled",
  };
}

async function run(script: string, sandbox: object | null = workspaceWrite()): Promise<SandboxedRun> {
  const r = await runSandboxed(executor.client, ws.uri, script, sandbox);
  if ("error" in r) throw new Error(JSON.stringify(r.error));
  return r;
}

test("a write inside the workspace succeeds; outside it fails read-only, reported as a denial", async () => {
  const inside = await run("echo ok > made-here && cat made-here");
  expect(inside).toMatchObject({ sandboxType: "linuxSeccomp", exitCode: 0, denied: false, readDenied: false, stdout: "ok\n" });
  const target = join(outside.path, "new");
  const out = await run(`echo x > ${target}`);
  expect(out.exitCode).toBe(2);
  expect(out.stderr).toContain("Read-only file system");
  expect([out.denied, out.readDenied]).toEqual([true, true]);
  expect(existsSync(target)).toBe(false);
});

test("protected names under a writable root stay read-only", async () => {
  const r = await run("echo evil > .git/HEAD");
  expect(r.exitCode).toBe(2);
  expect(r.denied).toBe(true);
  expect(readFileSync(join(ws.path, ".git", "HEAD"), "utf8")).toBe("ref: refs/heads/main\n");
});

test("a missing protected name cannot be created; its stand-in is gone afterwards", async () => {
  const r = await run("echo x > .codex/config; mkdir -p .agents/skills");
  expect(r.stderr).toContain("Read-only file system");
  expect(r.denied).toBe(true);
  for (const name of [".codex", ".agents", ".aws"]) expect(existsSync(join(ws.path, name))).toBe(false);
  expect(existsSync(join(ws.path, ".git", "HEAD"))).toBe(true);
});

test("missing denied and read-only paths under the workspace cannot be created; their stand-ins are gone afterwards", async () => {
  const extra = [
    { path: { type: "path", path: `${ws.uri}/later.env` }, access: "deny" },
    { path: { type: "path", path: `${ws.uri}/vendor` }, access: "read", missing_path_behavior: "skip" },
    { path: { type: "path", path: `${ws.uri}/keys/deep/id.key` }, access: "deny" },
  ];
  const r = await run("echo ok > fine; echo s > later.env; echo v > vendor; mkdir -p keys/deep; echo k > keys/deep/id.key", workspaceWrite(extra));
  expect(r.stderr).toContain("Read-only file system");
  expect(r.denied).toBe(true);
  for (const name of ["later.env", "vendor", "keys"]) expect(existsSync(join(ws.path, name))).toBe(false);
  // The rest of the workspace stays writable.
  expect(readFileSync(join(ws.path, "fine"), "utf8")).toBe("ok\n");
});

test("escape: a stand-in is never made through a symlink in the workspace (refused, nothing created outside)", async () => {
  using linked = tempDir("execbox-sbx-linked-");
  symlinkSync(linked.path, join(ws.path, "a"));
  symlinkSync(join(linked.path, "dangling"), join(ws.path, "dangle"));
  try {
    for (const [entry, via] of [["a/b/secret", "a"], ["dangle", "dangle"]] as const) {
      const r = await runSandboxed(executor.client, ws.uri, "true", workspaceWrite([{ path: { type: "path", path: `${ws.uri}/${entry}` }, access: "deny" }]));
      expect(r).toEqual({
        error: { code: -32602, message: `sandbox intent cannot be enforced on this executor: cannot hold a missing path in place: ${join(ws.path, via)} is a symlink inside the writable root ${ws.path}` },
      });
    }
    expect(readdirSync(linked.path)).toEqual([]);
  } finally {
    rmSync(join(ws.path, "a"));
    rmSync(join(ws.path, "dangle"));
  }
});

test("deny masks: a globbed file and a denied directory cannot be read", async () => {
  const file = await run("cat secret.pem");
  expect(file.exitCode).toBe(1);
  expect(file.stderr).toContain("Permission denied");
  expect(file.stdout).toBe("");
  expect(file.denied).toBe(true);
  const dir = await run("ls private; cat private/x");
  expect(dir.stdout).not.toContain("hidden");
  expect(dir.stderr).toContain("Permission denied");
});

test("symlink and hardlink escapes fail", async () => {
  const viaLink = await run("echo pwned > link-out/victim");
  expect(viaLink.exitCode).toBe(2);
  expect(viaLink.stderr).toContain("Read-only file system");
  const hard = await run(`ln ${join(outside.path, "victim")} hard && echo pwned > hard`);
  expect(hard.exitCode).not.toBe(0);
  expect(existsSync(join(ws.path, "hard"))).toBe(false);
  expect(readFileSync(join(outside.path, "victim"), "utf8")).toBe("original");
});

test("a restricted network cannot reach a listener on 127.0.0.1; enabled can", async () => {
  let connections = 0;
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { open: () => void connections++, data() {} } });
  try {
    // bash's /dev/tcp opens a plain TCP connection without any extra tool.
    const probe = `exec 3<>/dev/tcp/127.0.0.1/${listener.port} && echo connected`;
    const cut = await run(`bash -c '${probe}'`);
    expect(cut.exitCode).toBe(1);
    expect(cut.stdout).toBe("");
    // The seccomp stage refuses the socket itself, as the reference's filter does.
    expect(cut.stderr).toContain("socket: Operation not permitted");
    expect(cut.denied).toBe(true);
    expect(connections).toBe(0);
    const open = await run(`bash -c '${probe}'`, workspaceWrite([], "enabled"));
    expect(open.stdout).toBe("connected\n");
    expect(connections).toBe(1);
  } finally {
    listener.stop(true);
  }
});

test("seccomp: no AF_UNIX connect (a host daemon's socket) with the network cut; no AF_VSOCK even with it open", async () => {
  const sockPath = join(outside.path, "daemon.sock");
  let accepted = 0;
  const daemon = Bun.listen({ unix: sockPath, socket: { open: () => void accepted++, data() {} } });
  try {
    const unix = await run(`perl -MSocket -e 'socket(S, AF_UNIX, SOCK_STREAM, 0) or die "socket: $!\\n"; connect(S, pack_sockaddr_un("${sockPath}")) or die "connect: $!\\n"; print "connected\\n"'`);
    expect(unix.stderr).toBe("connect: Operation not permitted\n");
    expect(unix.denied).toBe(true);
    expect(accepted).toBe(0);
  } finally {
    daemon.stop(true);
  }
  const vsock = await run(`perl -e 'socket(S, 40, 1, 0) or die "vsock: $!\\n"; print "opened\\n"'`, workspaceWrite([], "enabled"));
  expect(vsock.stderr).toBe("vsock: Operation not permitted\n");
  expect(vsock.stdout).toBe("");
});

test("escape: no datagram to a host Unix socket with the network cut (socket, SOCK_RAW, socketpair + address)", async () => {
  await expectNoDatagramEscape(run, ws.path, outside.path);
  // Stream socketpairs (a child's stdio under Bun) still work.
  const pair = await run(`python3 -c 'import socket;a,b=socket.socketpair();a.send(b"ok");print(b.recv(2).decode())'`);
  expect(pair.stdout).toBe("ok\n");
});

test("a PTY command is sandboxed too (inner stage): writes inside only", async () => {
  const c = executor.client;
  const start = await c.call("process/start", { processId: "pty", argv: ["sh", "-c", `echo ok > tty-made; cat tty-made; echo x > ${outside.path}/tty`], cwd: ws.uri, env: ENV, tty: true, sandbox: workspaceWrite() });
  expect(start.result).toEqual({ processId: "pty", sandboxType: "linuxSeccomp" });
  const events = await c.processDone("pty");
  const text = c.output("pty", "pty").toString();
  expect(text).toContain("ok\r\n");
  expect(text).toContain("Read-only file system");
  expect(events.find((e) => e.method === "process/exited")!.params.sandboxDenied).toBe(true);
  expect(existsSync(join(outside.path, "tty"))).toBe(false);
});

test("arg0 reaches the sandboxed program (set by the inner stage)", async () => {
  const c = executor.client;
  const start = await c.call("process/start", { processId: "a0", argv: ["sh", "-c", "tr '\\0' ' ' < /proc/$$/cmdline"], arg0: "renamed", cwd: ws.uri, env: ENV, tty: false, sandbox: workspaceWrite() });
  expect(start.error).toBeUndefined();
  await c.processDone("a0");
  expect(c.output("a0", "stdout").toString()).toStartWith("renamed -c ");
});

test("profiles that restrict nothing run directly but still report the platform sandbox", async () => {
  for (const sandbox of [
    { permissions: { type: "disabled" }, windowsSandboxLevel: "disabled" },
    { permissions: { type: "managed", file_system: { type: "unrestricted" }, network: "enabled" }, windowsSandboxLevel: "disabled" },
  ]) {
    const r = await run("echo Permission denied; exit 3", sandbox);
    expect(r).toMatchObject({ sandboxType: "linuxSeccomp", exitCode: 3, denied: true });
  }
  const plain = await run("echo Permission denied; exit 3", null);
  expect(plain).toMatchObject({ sandboxType: "none", exitCode: 3, denied: false });
});

test("fs/* under a restricted policy runs in the helper: the reference's codes, nothing written outside", async () => {
  const c = executor.client;
  const sandbox = workspaceWrite();
  const inside = join(ws.path, "fs-written");
  const w0 = await c.call("fs/writeFile", { path: `file://${inside}`, dataBase64: "aGk=", sandbox });
  expect(w0.error).toBeUndefined();
  expect(w0.result).toEqual({});
  expect(readFileSync(inside, "utf8")).toBe("hi");
  expect((await c.call("fs/readFile", { path: `file://${inside}`, sandbox })).result).toEqual({ dataBase64: "aGk=" });
  const outsideFile = join(outside.path, "fs-written");
  expect((await c.call("fs/writeFile", { path: `file://${outsideFile}`, dataBase64: "aGk=", sandbox })).error).toEqual({
    code: -32603,
    message: "Read-only file system (os error 30)",
  });
  expect(existsSync(outsideFile)).toBe(false);
  expect((await c.call("fs/readFile", { path: `${ws.uri}/secret.pem`, sandbox })).error).toEqual({ code: -32600, message: "Permission denied (os error 13)" });
  expect((await c.call("fs/getMetadata", { path: `${ws.uri}/nope`, sandbox })).error).toEqual({ code: -32004, message: "No such file or directory (os error 2)" });
  expect((await c.call("fs/remove", { path: `${outside.uri}/victim`, sandbox })).error?.code).toBe(-32603);
  expect(readFileSync(join(outside.path, "victim"), "utf8")).toBe("original");
  expect((await c.call("fs/open", { handleId: "h", path: `file://${inside}`, sandbox })).result).toEqual({ handleId: "h" });
  expect((await c.call("fs/readBlock", { handleId: "h", offset: 0, len: 8 })).result).toEqual({ chunk: "aGk=", eof: true });
  expect((await c.call("fs/close", { handleId: "h" })).result).toEqual({});
  const { cwd: _, workspaceRoots: __, ...noCwd } = sandbox;
  expect((await c.call("fs/getMetadata", { path: ws.uri, sandbox: noCwd })).error).toEqual({
    code: -32602,
    message: "file system sandbox context with dynamic permissions requires cwd",
  });
});

test("malformed sandbox intent is a serde error", async () => {
  const c = executor.client;
  expect((await c.call("fs/getMetadata", { path: ws.uri, sandbox: {} })).error).toEqual({ code: -32602, message: "missing field `permissions`" });
  const bad = { permissions: { type: "bogus" }, windowsSandboxLevel: "disabled" };
  expect((await c.call("fs/getMetadata", { path: ws.uri, sandbox: bad })).error).toEqual({
    code: -32602,
    message: "unknown variant `bogus`, expected one of `managed`, `disabled`, `external`",
  });
});
