/**
 * sandbox.md: the sandbox context's shape errors, what a sandboxed start
 * reports (`sandboxType`, `sandboxDenied`), and a restricted run. The
 * restricted one sends no PATH, so the reference uses its bundled bwrap
 * rather than a system one (whose presence changes its wrapper).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Ctx, type Scenario, awaitProcess, local, ready, req, startParams } from "./types.ts";

const special = (kind: string) => ({ type: "special", value: { kind } });
const context = (permissions: unknown, extra: Record<string, unknown> = {}) => ({ permissions, windowsSandboxLevel: "disabled", ...extra });
const managed = (file_system: unknown, network = "restricted") => ({ type: "managed", file_system, network });
const restricted = (entries: unknown[]) => ({ type: "restricted", entries });
const start = (processId: string, sandbox: unknown, script = "true") =>
  req("process/start", startParams(processId, ["/bin/sh", "-c", script], { sandbox }));

/** `/` writable plus narrower entries under the scenario's dir (sandbox.md; capabilities.md, linuxRootWritePreservesDevices). */
const rootWrite = (ctx: Ctx, extra: unknown[]) =>
  context(managed(restricted([{ path: special("root"), access: "write" }, ...extra])), { cwd: ctx.uri, workspaceRoots: [ctx.uri] });
const at = (ctx: Ctx, rel: string, access: string) => ({ path: { type: "path", path: `${ctx.uri}/${rel}` }, access });
const rootWriteStart = (processId: string, script: string, extra: (ctx: Ctx) => unknown[]) =>
  req("process/start", (ctx: Ctx) => ({ processId, argv: ["/bin/sh", "-c", script], cwd: ctx.uri, env: {}, tty: false, sandbox: rootWrite(ctx, extra(ctx)) }));

export const sandboxScenarios: Scenario[] = [
  {
    // Writes succeed (the root stays writable), /dev works, denied paths give EACCES, carve-outs EROFS; nothing is left behind.
    name: "sandbox/root-write-keeps-devices-and-carve-outs",
    sidesInTurn: true,
    steps: [
      ...ready(),
      local("denied dir, denied file, read-only dir and file", (dir) => {
        mkdirSync(join(dir, "ddir"));
        writeFileSync(join(dir, "ddir", "x"), "hidden");
        writeFileSync(join(dir, "dfile"), "secret");
        writeFileSync(join(dir, "k.pem"), "pem");
        mkdirSync(join(dir, "rodir"));
        writeFileSync(join(dir, "rofile"), "ro");
      }),
      rootWriteStart("r1", "echo w > made && cat made; echo x > /dev/null && echo devnull; head -c1 /dev/zero | wc -c; cat ddir/x; ls ddir; cat dfile; cat k.pem; echo n > missing-denied", (ctx) => [
        at(ctx, "ddir", "deny"),
        at(ctx, "dfile", "deny"),
        at(ctx, "missing-denied", "deny"),
        { path: { type: "glob_pattern", pattern: "*.pem" }, access: "deny" },
      ]),
      awaitProcess("r1"),
      rootWriteStart("r2", "echo r > rodir/new; echo r > rofile; cat rofile; echo ok > free && cat free", (ctx) => [at(ctx, "rodir", "read"), at(ctx, "rofile", "read")]),
      awaitProcess("r2"),
      // More write entries leave the whole disk writable: no carve-out, protected names included.
      rootWriteStart("r3", "mkdir -p sub/.git && echo h > sub/.git/HEAD && cat sub/.git/HEAD", (ctx) => [at(ctx, "sub", "write")]),
      awaitProcess("r3"),
      req("process/start", (ctx: Ctx) => ({ processId: "r4", argv: ["/bin/ls", "-A", "-1"], cwd: ctx.uri, env: {}, tty: false })),
      awaitProcess("r4"),
    ],
  },
  {
    // Checked on the wire (a unit enum with a default), and no value changes what is enforced.
    name: "sandbox/sandbox-override-values",
    steps: [
      ...ready(),
      ...["noOverride", "escalatedSandboxWithRestrictions", "bypassSandboxFirstAttempt", "bogus", null, 3].flatMap((value, i) => [
        req("process/start", (ctx: Ctx) => ({
          processId: `o${i}`,
          argv: ["/bin/sh", "-c", "echo x > /proc/nope-execbox-conformance; echo done"],
          cwd: ctx.uri,
          env: {},
          tty: false,
          sandbox: context(managed(restricted([{ path: special("root"), access: "read" }])), { sandboxOverride: value }),
        })),
        ...(typeof value === "string" && value !== "bogus" ? [awaitProcess(`o${i}`)] : []),
      ]),
    ],
  },
  {
    name: "sandbox/context-shape-errors",
    steps: [
      ...ready(),
      start("e1", {}),
      start("e2", { permissions: { type: "disabled" } }),
      start("e3", context({ type: "disabled" }, { windowsSandboxLevel: "bogus" })),
      start("e4", context({ type: "bogus" })),
      start("e5", context(managed({ type: "bogus" }))),
      start("e6", context(managed({ type: "unrestricted" }, "bogus"))),
      start("e7", context(managed(restricted([{ path: { type: "bogus" }, access: "read" }])))),
      start("e8", context(managed(restricted([{ path: { type: "special", value: { kind: "bogus" } }, access: "read" }])))),
      start("e9", context(managed(restricted([{ path: special("root"), access: "bogus" }])))),
      start("e10", context(managed(restricted([{ path: special("root") }])))),
      start("e11", "not an object"),
    ],
  },
  {
    name: "sandbox/unrestricted-profiles-report-and-classify",
    steps: [
      ...ready(),
      start("d1", context({ type: "disabled" }), "echo Permission denied; exit 3"),
      awaitProcess("d1"),
      start("d2", context({ type: "disabled" }), "echo nothing; exit 1"),
      awaitProcess("d2"),
      start("d3", context(managed({ type: "unrestricted" }, "enabled")), "exit 159"),
      awaitProcess("d3"),
      start("d4", context({ type: "disabled" }), "echo 'Permission denied'; exit 0"),
      awaitProcess("d4"),
      req("process/read", { processId: "d1" }),
    ],
  },
  {
    name: "sandbox/workspace-write-inside-and-outside",
    steps: [
      ...ready(),
      req("process/start", (ctx: Ctx) => ({
        processId: "w1",
        argv: ["/bin/sh", "-c", "echo ok > inside && echo done"],
        cwd: ctx.uri,
        env: {},
        tty: false,
        sandbox: context(managed(restricted([{ path: special("root"), access: "read" }, { path: special("project_roots"), access: "write" }])), {
          cwd: ctx.uri,
          workspaceRoots: [ctx.uri],
        }),
      })),
      awaitProcess("w1"),
      req("process/start", (ctx: Ctx) => ({
        processId: "w2",
        argv: ["/bin/sh", "-c", "echo x > /proc/nope-execbox-conformance"],
        cwd: ctx.uri,
        env: {},
        tty: false,
        sandbox: context(managed(restricted([{ path: special("root"), access: "read" }, { path: special("project_roots"), access: "write" }])), {
          cwd: ctx.uri,
          workspaceRoots: [ctx.uri],
        }),
      })),
      awaitProcess("w2"),
    ],
  },
  {
    // Missing paths the policy denies or keeps read-only, under a writable root: the command cannot create them,
    // and nothing is left behind on the host afterwards (the unsandboxed listing).
    name: "sandbox/missing-carve-outs-cannot-be-created",
    steps: [
      ...ready(),
      req("process/start", (ctx: Ctx) => ({
        processId: "m1",
        argv: ["/bin/sh", "-c", "echo s > later.env; echo v > vendor; mkdir -p keys/deep; echo k > keys/deep/id.key; echo ok > fine; cat fine"],
        cwd: ctx.uri,
        env: {},
        tty: false,
        sandbox: context(
          managed(
            restricted([
              { path: special("root"), access: "read" },
              { path: special("project_roots"), access: "write" },
              { path: { type: "path", path: `${ctx.uri}/later.env` }, access: "deny" },
              { path: { type: "path", path: `${ctx.uri}/vendor` }, access: "read", missing_path_behavior: "skip" },
              { path: { type: "path", path: `${ctx.uri}/keys/deep/id.key` }, access: "deny" },
            ]),
          ),
          { cwd: ctx.uri, workspaceRoots: [ctx.uri] },
        ),
      })),
      awaitProcess("m1"),
      req("process/start", (ctx: Ctx) => ({ processId: "m2", argv: ["/bin/ls", "-A", "-1"], cwd: ctx.uri, env: {}, tty: false })),
      awaitProcess("m2"),
    ],
  },
];
