/**
 * Probes of process/start where the request itself shapes the child:
 * program lookup through the request's own PATH, a PTY child's environment
 * next to a pipe child's, a PTY started in a cwd that does not exist, and
 * what the child's stdin is with and without `pipeStdin`.
 */
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Ctx, type Scenario, awaitProcess as awaitProcessFor, ready, req, sh, startParams } from "./types.ts";

/** Several starts here fail on one side: a missing process/closed is recorded after 3 s, not the default wait. */
const awaitProcess = (processId: string, opts: { timeoutMs?: number } = {}) => awaitProcessFor(processId, { timeoutMs: 3000, ...opts });

/** `bin/hello-tool` in the scenario dir: a program found only through a PATH that names `bin`. */
const helloTool = (dir: string) => {
  mkdirSync(join(dir, "bin"));
  writeFileSync(join(dir, "bin", "hello-tool"), "#!/bin/sh\necho hello-tool $0 \"$@\"\n");
  chmodSync(join(dir, "bin", "hello-tool"), 0o755);
};

const policy = (p: Record<string, unknown>) => ({ inherit: "all", ignoreDefaultExcludes: false, exclude: [], set: {}, includeOnly: [], ...p });
const ENV_SCRIPT = "env | grep -v -e '^_=' -e '^SHLVL=' -e '^PWD=' -e '^OLDPWD=' | sort";
/** What kind of file descriptor `fd` is, and its /proc link with the numbers masked (sh -c text). */
const fdKindScript = (fd: number) =>
  `if [ -p /dev/fd/${fd} ]; then echo pipe; elif [ -S /dev/fd/${fd} ]; then echo socket; else echo other; fi; readlink /proc/self/fd/${fd} | sed 's/[0-9][0-9]*/N/g'`;
const STDIN_SCRIPT = "if [ -p /dev/stdin ]; then echo pipe; elif [ -c /dev/stdin ]; then echo chardev; elif [ -S /dev/stdin ]; then echo socket; else echo other; fi; readlink /proc/self/fd/0 | sed 's/[0-9][0-9]*/N/g'";

export const processProbeScenarios: Scenario[] = [
  {
    name: "probe/lookup-through-request-env-path",
    setup: helloTool,
    steps: [
      ...ready(),
      req("process/start", (ctx: Ctx) => ({ processId: "l1", argv: ["hello-tool", "a"], cwd: ctx.uri, env: { PATH: `${ctx.dir}/bin:/usr/bin:/bin` }, tty: false })),
      awaitProcess("l1"),
      req("process/start", (ctx: Ctx) => ({ processId: "l2", argv: ["hello-tool"], cwd: ctx.uri, env: { PATH: `${ctx.dir}/bin` }, tty: true })),
      awaitProcess("l2"),
    ],
  },
  {
    name: "probe/lookup-through-env-policy-path",
    setup: helloTool,
    steps: [
      ...ready(),
      req("process/start", (ctx: Ctx) => ({
        processId: "p1",
        argv: ["hello-tool"],
        cwd: ctx.uri,
        env: {},
        envPolicy: policy({ inherit: "none", set: { PATH: `${ctx.dir}/bin:/usr/bin:/bin` } }),
        tty: false,
      })),
      awaitProcess("p1"),
    ],
  },
  {
    name: "probe/lookup-relative-path-entry",
    setup: helloTool,
    steps: [
      ...ready(),
      req("process/start", (ctx: Ctx) => ({ processId: "r1", argv: ["hello-tool"], cwd: ctx.uri, env: { PATH: "bin:/usr/bin:/bin" }, tty: false })),
      awaitProcess("r1"),
      req("process/start", (ctx: Ctx) => ({ processId: "r2", argv: ["hello-tool"], cwd: ctx.uri, env: { PATH: "" }, tty: false })),
      awaitProcess("r2"),
      req("process/start", (ctx: Ctx) => ({ processId: "r3", argv: ["bin/hello-tool"], cwd: ctx.uri, env: {}, tty: false })),
      awaitProcess("r3"),
    ],
  },
  {
    name: "probe/lookup-server-path-only-program",
    steps: [
      ...ready(),
      req("process/start", (ctx: Ctx) => ({ processId: "s1", argv: ["conf-server-tool", "x"], cwd: ctx.uri, env: {}, tty: false })),
      awaitProcess("s1"),
      req("process/start", (ctx: Ctx) => ({ processId: "s2", argv: ["conf-server-tool"], cwd: ctx.uri, env: { PATH: "/usr/bin:/bin" }, tty: false })),
      awaitProcess("s2"),
      req("process/start", (ctx: Ctx) => ({ processId: "s3", argv: ["conf-server-tool"], cwd: ctx.uri, env: {}, envPolicy: policy({ inherit: "all" }), tty: false })),
      awaitProcess("s3"),
      req("process/start", (ctx: Ctx) => ({ processId: "s4", argv: ["conf-server-tool"], cwd: ctx.uri, env: {}, envPolicy: policy({ inherit: "all" }), tty: true })),
      awaitProcess("s4"),
      req("process/start", (ctx: Ctx) => ({ processId: "s5", argv: ["conf-server-tool"], cwd: ctx.uri, env: { OTHER: "1" }, tty: false })),
      awaitProcess("s5"),
    ],
  },
  {
    name: "probe/lookup-default-path-without-path",
    steps: [
      ...ready(),
      req("process/start", (ctx: Ctx) => ({ processId: "d1", argv: ["ls", "-d", "/"], cwd: ctx.uri, env: {}, tty: false })),
      awaitProcess("d1"),
      req("process/start", (ctx: Ctx) => ({ processId: "d2", argv: ["ls", "-d", "/"], cwd: ctx.uri, env: {}, tty: true })),
      awaitProcess("d2"),
    ],
  },
  {
    name: "probe/lookup-edge-entries",
    setup: (dir) => {
      helloTool(dir);
      writeFileSync(join(dir, "in-cwd-tool"), "#!/bin/sh\necho in-cwd-tool $0\n", { mode: 0o755 });
      writeFileSync(join(dir, "bin", "noexec-tool"), "#!/bin/sh\necho noexec\n", { mode: 0o644 });
    },
    steps: [
      ...ready(),
      ...[false, true].flatMap((tty) => {
        const t = tty ? "t" : "p";
        const start = (id: string, argv: string[], PATH: string) =>
          req("process/start", (ctx: Ctx) => ({ processId: `${t}${id}`, argv, cwd: ctx.uri, env: { PATH }, tty }));
        return [
          start("1", ["no-such-tool-anywhere"], "/usr/bin:/bin"),
          start("2", ["in-cwd-tool"], "/usr/bin:/bin"),
          awaitProcess(`${t}2`),
          start("3", ["hello-tool"], "bin"),
          awaitProcess(`${t}3`),
          start("4", ["noexec-tool"], "bin:/usr/bin"),
          start("6", ["hello-tool"], "./bin/"),
          awaitProcess(`${t}6`),
        ];
      }),
    ],
  },
  {
    name: "probe/lookup-empty-path-entry",
    setup: (dir) => writeFileSync(join(dir, "in-cwd-tool"), "#!/bin/sh\necho in-cwd-tool $0\n", { mode: 0o755 }),
    steps: [
      ...ready(),
      req("process/start", (ctx: Ctx) => ({ processId: "e1", argv: ["in-cwd-tool"], cwd: ctx.uri, env: { PATH: ":/usr/bin" }, tty: false })),
      awaitProcess("e1"),
      req("process/start", (ctx: Ctx) => ({ processId: "e2", argv: ["in-cwd-tool"], cwd: ctx.uri, env: { PATH: ":/usr/bin" }, tty: true })),
      awaitProcess("e2"),
    ],
  },
  {
    name: "probe/lookup-no-path-in-request",
    steps: [...ready(), req("process/start", (ctx: Ctx) => ({ processId: "n1", argv: ["sh", "-c", "echo ran"], cwd: ctx.uri, env: {}, tty: false })), awaitProcess("n1")],
  },
  {
    name: "probe/pty-env-matches-pipe-env",
    steps: [
      ...ready(),
      sh("e1", ENV_SCRIPT, { env: { PATH: "/usr/bin:/bin", PROBE_A: "a" } }),
      awaitProcess("e1"),
      sh("e2", ENV_SCRIPT, { env: { PATH: "/usr/bin:/bin", PROBE_A: "a" }, tty: true }),
      awaitProcess("e2"),
    ],
  },
  {
    name: "probe/pty-env-with-policy",
    steps: [
      ...ready(),
      sh("e3", ENV_SCRIPT, { env: { PATH: "/usr/bin:/bin" }, envPolicy: policy({ inherit: "none", set: { SET_A: "a" } }), tty: true }),
      awaitProcess("e3"),
    ],
  },
  {
    name: "probe/missing-cwd-pipe-and-pty",
    steps: [
      ...ready(),
      req("process/start", startParams("c1", ["sh", "-c", "pwd"], { cwd: "file:///nonexistent-execbox-probe-dir" })),
      req("process/start", startParams("c2", ["sh", "-c", "pwd; echo ran"], { cwd: "file:///nonexistent-execbox-probe-dir", tty: true })),
      awaitProcess("c2"),
    ],
  },
  {
    name: "probe/pty-missing-cwd-falls-back-to-home",
    steps: [
      ...ready(),
      req("process/start", (ctx: Ctx) => ({ processId: "h1", argv: ["sh", "-c", "pwd"], cwd: "file:///nonexistent-execbox-probe-dir", env: { PATH: "/usr/bin:/bin", HOME: ctx.dir }, tty: true })),
      awaitProcess("h1"),
      req("process/start", () => ({ processId: "h2", argv: ["sh", "-c", "pwd"], cwd: "file:///nonexistent-execbox-probe-dir", env: { PATH: "/usr/bin:/bin", HOME: "/nonexistent-home-probe" }, tty: true })),
      awaitProcess("h2"),
      req("process/start", () => ({ processId: "h3", argv: ["sh", "-c", "pwd"], cwd: "file:///nonexistent-execbox-probe-dir", env: { PATH: "/usr/bin:/bin", HOME: "relative-home" }, tty: true })),
      awaitProcess("h3"),
    ],
  },
  {
    name: "probe/cwd-is-a-file",
    setup: (dir) => writeFileSync(join(dir, "plain.txt"), "x"),
    steps: [
      ...ready(),
      req("process/start", (ctx: Ctx) => ({ processId: "f1", argv: ["pwd"], cwd: `${ctx.uri}/plain.txt`, env: { PATH: "/usr/bin:/bin" }, tty: false })),
      req("process/start", (ctx: Ctx) => ({ processId: "f2", argv: ["pwd"], cwd: `${ctx.uri}/plain.txt`, env: { PATH: "/usr/bin:/bin" }, tty: true })),
      awaitProcess("f2"),
    ],
  },
  {
    name: "probe/stdin-kind",
    steps: [
      ...ready(),
      sh("s1", STDIN_SCRIPT, { pipeStdin: true }),
      awaitProcess("s1", { timeoutMs: 3000 }),
      sh("s2", STDIN_SCRIPT),
      awaitProcess("s2"),
      sh("s3", STDIN_SCRIPT, { tty: true }),
      awaitProcess("s3"),
    ],
  },
  {
    name: "probe/stdout-and-stderr-kind",
    steps: [...ready(), sh("o1", `${fdKindScript(1)}; ${fdKindScript(2)} >&2`), awaitProcess("o1")],
  },
];
