/** The pure parts of sandboxing: the denial heuristic, policy resolution, the bwrap argv, failing closed. */
import { describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { RpcError } from "../../src/protocol/errors.ts";
import { SandboxContext } from "../../src/protocol/messages/sandbox.ts";
import { chooseBackend } from "../../src/sandbox/backend.ts";
import { bwrapArgs } from "../../src/sandbox/bwrap.ts";
import { looksDenied } from "../../src/sandbox/denial.ts";
import { privateDir } from "../../src/sandbox/private-dir.ts";
import { CANNOT_ENFORCE, planLaunch } from "../../src/sandbox/launch.ts";
import { expandGlob, resolveSandbox } from "../../src/sandbox/policy.ts";
import { tempDir } from "../helpers/server.ts";

describe("sandboxDenied heuristic (the reference's matrix)", () => {
  const cases: [string, number, string, boolean][] = [
    ["clean exit, whatever it printed", 0, "Permission denied", false],
    ["read-only file system", 2, "sh: 1: cannot create /root/x: Read-only file system", true],
    ["permission denied", 1, "cat: denied.pem: Permission denied", true],
    ["plain failure", 1, "nothing", false],
    ["keywords beat the not-found codes", 127, "Permission denied", true],
    ["not found", 127, "sh: foo: not found", false],
    ["SIGSYS", 159, "", true],
  ];
  for (const [name, code, text, denied] of cases) test(name, () => expect(looksDenied(code, text, "linux")).toBe(denied));
  test("SIGSYS counts only on Linux", () => expect(looksDenied(159, "", "darwin")).toBe(false));
});

const ctx = (entries: object[], network = "restricted", extra: object = {}) =>
  SandboxContext.parse({
    permissions: { type: "managed", file_system: { type: "restricted", entries }, network },
    windowsSandboxLevel: "disabled",
    ...extra,
  });
const special = (kind: string, more: object = {}) => ({ type: "special", value: { kind, ...more } });
const path = (p: string) => ({ type: "path", path: `file://${p}` });

describe("policy resolution", () => {
  test("project_roots bind to every workspace root with the subpath; protected names become read-only", () => {
    using a = tempDir();
    using b = tempDir();
    mkdirSync(join(a.path, ".git"));
    const resolved = resolveSandbox(ctx([{ path: special("root"), access: "read" }, { path: special("project_roots"), access: "write" }], "restricted", { workspaceRoots: [a.uri, b.uri] }), { cwd: a.path, env: {} });
    if (resolved.kind !== "enforce" || !resolved.view) throw new Error("expected a view");
    // The missing ones are placeholders (stand-ins made at launch): all four in b, three in a.
    expect(resolved.view.rules.filter((r) => r.placeholder).map((r) => r.path).sort()).toEqual(
      [...[".agents", ".aws", ".codex"].map((n) => join(a.path, n)), ...[".agents", ".aws", ".codex", ".git"].map((n) => join(b.path, n))].sort(),
    );
    const plan = { ...resolved, view: { ...resolved.view, rules: resolved.view.rules.filter((r) => !r.placeholder) } };
    expect(plan).toEqual({
      kind: "enforce",
      network: "restricted",
      view: {
        fullRead: true,
        fullWrite: false,
        rules: [
          { path: a.path, access: "write" as const },
          { path: b.path, access: "write" as const },
          { path: join(a.path, ".git"), access: "read" as const },
        ].sort((x, y) => x.path.split("/").length - y.path.split("/").length || x.path.localeCompare(y.path)),
      },
    });
  });

  test("without workspace roots project_roots grants nothing (as the reference); tmpdir is the program's TMPDIR", () => {
    const plan = resolveSandbox(ctx([{ path: special("project_roots"), access: "write" }, { path: special("tmpdir"), access: "write" }]), { cwd: "/", env: { TMPDIR: "/var/tmp" } });
    expect(plan.kind === "enforce" && plan.view?.rules.filter((r) => !r.placeholder)).toEqual([{ path: "/var/tmp", access: "write" }]);
  });

  test("missing read-only or denied paths under a writable root get stand-ins; elsewhere they stay missing", () => {
    using ws = tempDir();
    mkdirSync(join(ws.path, ".git"));
    for (const n of [".agents", ".aws", ".codex"]) mkdirSync(join(ws.path, n));
    const entries = [
      { path: special("root"), access: "read" },
      { path: path(ws.path), access: "write" },
      { path: path(join(ws.path, "secret.env")), access: "deny" },
      { path: path(join(ws.path, "vendor")), access: "read", missing_path_behavior: "skip" },
      { path: path(join(ws.path, "a/b/c.key")), access: "deny" },
      { path: path("/nonexistent-execbox-test/x"), access: "deny" },
      { path: path(join(ws.path, "new-dir")), access: "write", missing_path_behavior: "skip" },
    ];
    const plan = resolveSandbox(ctx(entries), { cwd: ws.path, env: {} });
    if (plan.kind !== "enforce" || !plan.view) throw new Error("expected a view");
    const byPath = Object.fromEntries(plan.view.rules.map((r) => [r.path, r]));
    expect(byPath[join(ws.path, "secret.env")]).toEqual({ path: join(ws.path, "secret.env"), access: "deny", placeholder: { kind: "file", root: ws.path } });
    expect(byPath[join(ws.path, "vendor")]).toEqual({ path: join(ws.path, "vendor"), access: "read", placeholder: { kind: "file", root: ws.path } });
    // Its parent is missing too: the first missing ancestor is held instead, with the same access.
    expect(byPath[join(ws.path, "a")]).toEqual({ path: join(ws.path, "a"), access: "deny", placeholder: { kind: "file", root: ws.path } });
    expect(byPath[join(ws.path, "a/b/c.key")]).toEqual({ path: join(ws.path, "a/b/c.key"), access: "deny" });
    // Not under a writable root: nothing could create it, nothing to hold. A skipped missing write grant is dropped.
    expect(byPath["/nonexistent-execbox-test/x"]).toEqual({ path: "/nonexistent-execbox-test/x", access: "deny" });
    expect(byPath[join(ws.path, "new-dir")]).toBeUndefined();
  });

  test("on one path the stronger access wins; `none` is deny; the whole disk writable needs no view", () => {
    const plan = resolveSandbox(ctx([{ path: path("/srv"), access: "read" }, { path: path("/srv"), access: "none" }, { path: path("/srv"), access: "write" }]), { cwd: "/", env: {} });
    expect(plan.kind === "enforce" && plan.view?.rules).toEqual([{ path: "/srv", access: "deny" }]);
    expect(resolveSandbox(ctx([{ path: special("root"), access: "write" }], "enabled"), { cwd: "/", env: {} })).toEqual({ kind: "unrestricted" });
    expect(resolveSandbox(ctx([{ path: special("root"), access: "write" }]), { cwd: "/", env: {} })).toEqual({ kind: "enforce", view: null, network: "restricted" });
  });

  test("deny globs expand by walking, bounded by the scan depth", () => {
    using d = tempDir();
    mkdirSync(join(d.path, "a", "b"), { recursive: true });
    for (const f of ["top.key", "a/mid.key", "a/b/deep.key", "a/b/deep.txt"]) writeFileSync(join(d.path, f), "");
    expect(expandGlob("**/*.key", d.path, 8).sort()).toEqual(["a/b/deep.key", "a/mid.key", "top.key"].map((f) => join(d.path, f)));
    expect(expandGlob("**/*.key", d.path, 1)).toEqual([join(d.path, "top.key")]);
    expect(expandGlob(`${d.path}/a/*.key`, "/", 8)).toEqual([join(d.path, "a", "mid.key")]);
  });
});

describe("bwrap argv", () => {
  test("view shallow to deep, namespaces, capabilities dropped, then --", () => {
    using w = tempDir();
    mkdirSync(join(w.path, "d"));
    const plan = { kind: "enforce" as const, network: "restricted" as const, view: { fullRead: true, fullWrite: false, rules: [{ path: w.path, access: "write" as const }, { path: join(w.path, "d"), access: "deny" as const }, { path: join(w.path, "missing"), access: "read" as const }] } };
    expect(bwrapArgs(plan, { cwd: w.path, tty: false })).toEqual([
      "--die-with-parent", "--new-session",
      "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
      "--bind", w.path, w.path,
      "--perms", "000", "--tmpfs", join(w.path, "d"), "--remount-ro", join(w.path, "d"),
      // execbox's private dir, readable under "/", is masked last.
      "--tmpfs", privateDir(), "--remount-ro", privateDir(),
      "--unshare-user", "--unshare-pid", "--unshare-ipc", "--unshare-net",
      "--cap-drop", "ALL", "--chdir", w.path, "--",
    ]);
    const tty = bwrapArgs({ ...plan, network: "enabled" }, { cwd: "/", tty: true });
    expect(tty.includes("--new-session") || tty.includes("--unshare-net")).toBe(false);
    // Where /proc cannot be mounted (the preflight failed), none is; the filter comes on a descriptor.
    const noProc = bwrapArgs(plan, { cwd: "/", tty: false, proc: false, seccompFd: 3 });
    expect(noProc.includes("--proc")).toBe(false);
    expect(noProc.slice(-3)).toEqual(["--seccomp", "3", "--"]);
    // Not shown by the view: nothing to mask. A bridge is bound read-only inside the mask.
    const narrow = { ...plan, view: { ...plan.view, fullRead: false } };
    expect(bwrapArgs(narrow, { cwd: "/", tty: false }).includes(privateDir())).toBe(false);
    const bridge = join(privateDir(), "net-x");
    expect(bwrapArgs(narrow, { cwd: "/", tty: false, bridge }).join(" ")).toContain(`--tmpfs ${privateDir()} --ro-bind ${bridge} ${bridge} --remount-ro ${privateDir()}`);
  });
});

describe("failing closed", () => {
  const req = { enforceManagedNetwork: false, cwd: "/", env: {}, tty: false, host: { backend: "auto" as const, searchPath: undefined, secretPaths: [] } };
  test("no backend: a restricting request is refused, an unrestricted one still runs", () => {
    const refused = (() => {
      try {
        planLaunch({ ...req, sandbox: ctx([{ path: special("root"), access: "read" }]) }, () => ({ kind: "none", why: "nothing here" }));
      } catch (e) {
        return e as RpcError;
      }
    })();
    expect(refused?.code).toBe(-32602);
    expect(refused?.message).toBe(`${CANNOT_ENFORCE}: nothing here`);
    const disabled = SandboxContext.parse({ permissions: { type: "disabled" }, windowsSandboxLevel: "disabled" });
    expect(planLaunch({ ...req, sandbox: disabled }, () => ({ kind: "none", why: "nothing here" }))).toEqual({ sandboxType: "linuxSeccomp", wrapper: null });
  });
  test("escape: a Landlock older than ABI 6 (no signal scoping) is refused, not used", () => {
    const old = chooseBackend("landlock", undefined, () => null, () => 5);
    expect(old.kind).toBe("none");
    const sandbox = ctx([{ path: special("root"), access: "read" }]);
    expect(() => planLaunch({ ...req, sandbox }, () => old)).toThrow(
      `${CANNOT_ENFORCE}: Landlock ABI 5 cannot keep a sandboxed command from signalling the executor's processes (scoping needs ABI 6, Linux 6.12); install bubblewrap (apt-get install bubblewrap) and see \`execbox doctor\``,
    );
    expect(chooseBackend("landlock", undefined, () => null, () => 6)).toEqual({ kind: "landlock", abi: 6 });
  });
  test("enforceManagedNetwork with a sandbox is refused; without one it is ignored (as the reference)", () => {
    const sandbox = ctx([{ path: special("root"), access: "read" }]);
    expect(() => planLaunch({ ...req, sandbox, enforceManagedNetwork: true })).toThrow(CANNOT_ENFORCE);
    expect(planLaunch({ ...req, sandbox: null, enforceManagedNetwork: true })).toEqual({ sandboxType: "none", wrapper: null });
  });
});

describe("fs helper protocol", () => {
  test("one request in, one line out: ok, an operation error, a request it cannot read", async () => {
    using d = tempDir();
    writeFileSync(join(d.path, "a.txt"), "hello\n");
    const { answerHelperRequest } = await import("../../src/sandbox/fs-helper.ts");
    expect(await answerHelperRequest(JSON.stringify({ operation: "fs/readFile", params: { path: `${d.uri}/a.txt`, sandbox: null } }))).toBe(
      '{"status":"ok","payload":{"operation":"fs/readFile","response":{"dataBase64":"aGVsbG8K"}}}\n',
    );
    expect(await answerHelperRequest(JSON.stringify({ operation: "fs/readFile", params: { path: `${d.uri}/missing` } }))).toBe(
      '{"status":"error","payload":{"code":-32004,"message":"No such file or directory (os error 2)"}}\n',
    );
    // fs/open is a helper operation (its descriptor goes back over a socket); a connection-bound method is not.
    expect(await answerHelperRequest(JSON.stringify({ operation: "fs/open", params: {} }))).toBe(
      '{"status":"error","payload":{"code":-32602,"message":"missing field `handleId`"}}\n',
    );
    expect(answerHelperRequest(JSON.stringify({ operation: "fs/watchMissing", params: {} }))).rejects.toThrow("unknown fs helper operation `fs/watchMissing`");
  });
});

describe("seccomp filters", () => {
  test("classic BPF for both architectures; an unknown one is refused", async () => {
    const { buildFilter } = await import("../../src/sandbox/seccomp.ts");
    for (const arch of ["x64", "arm64"]) {
      for (const mode of ["network", "vsock"] as const) {
        const f = buildFilter(mode, arch);
        expect(f.byteLength % 8).toBe(0);
        // First: load the arch; last: allow.
        expect(new DataView(f.buffer).getUint16(0, true)).toBe(0x20);
        expect(new DataView(f.buffer).getUint32(f.byteLength - 4, true)).toBe(0x7fff0000);
      }
    }
    expect(() => buildFilter("network", "ia32")).toThrow("no seccomp filter for architecture ia32");
  });
});
