/**
 * Probed process/* and environment scenarios (probe-gen.ts): every
 * parameter across its types and edge values, process/start for pipes and
 * for a PTY, with and without a sandbox. A started child only prints where it
 * runs and what it sees (never anything destructive); each start is followed
 * by a long-poll read past any seq, which returns once the process is closed
 * (or at once for an unknown id), then its notification summary.
 */
import { ABSENT, type Edge, edgeFixture, edgeValue, generate, type MethodTable, OPT_BOOL, pathEdges, SANDBOX_EDGES, U64, u, WRONG_TYPES } from "./probe-gen.ts";
import { type Ctx, type Scenario, type Step, awaitProcess, b64, req, sh } from "./types.ts";

/** What the child reports: cwd, a variable, $0, whether stdin is a terminal or a pipe. */
const REPORT = 'printf "%s\\n" "pwd=$PWD" "x=$X" "0=$0"; [ -t 0 ] && echo tty0; [ -p /dev/stdin ] && echo pipe0; exit 0';
const pid = (i: number) => `p${i}`;

/** Waits (bounded) for process `p<i>` to close, then records its events; quick when it never started. */
const settle = (i: number): Step[] => [
  req("process/read", { processId: pid(i), afterSeq: 1_000_000, waitMs: 3_000 }, { timeoutMs: 5_000, read: "bytes" }),
  awaitProcess(pid(i), { timeoutMs: 100 }),
];

const startValid = (tty: boolean) => (c: Ctx, i: number) => ({
  processId: pid(i),
  argv: ["/bin/sh", "-c", REPORT],
  cwd: u("")(c, i).replace(/\/$/, ""),
  env: { PATH: "/usr/bin:/bin", X: "1" },
  tty,
});

const CWD_EDGES = pathEdges("");
/** The cwd edges a pipe process is refused on both servers with the same OS error (ENOENT, ENOTDIR, ENAMETOOLONG). */
const NOT_A_DIRECTORY = new Set([
  "existing file",
  "non-UTF-8 file name",
  "nonexistent",
  "nonexistent leaf",
  "symlink to file",
  "through dir symlink",
  "dangling symlink",
  "invalid percent escape",
  "percent-encoded space",
  "raw space",
  "encoded slash",
  "component over 255",
  "path over 4096",
]);

const ENV_POLICY = { inherit: "none", ignoreDefaultExcludes: false, exclude: [], set: { X: "from-policy" }, includeOnly: [] };

function startTable(tty: boolean): MethodTable {
  const valid = startValid(tty);
  return {
    name: `probe-gen/process/start-${tty ? "pty" : "pipe"}`,
    method: "process/start",
    valid,
    before: [sh("keep", "exec sleep 30")],
    eachAfter: settle,
    timeoutMs: 5_000,
    params: {
      processId: [["absent", ABSENT], ...WRONG_TYPES, ["empty", ""], ["blank", "  "], ["non-ASCII", "pé"], ["long", "p".repeat(10_000)], ["reused (running keep)", "keep"]],
      argv: [
        ["absent", ABSENT],
        ...WRONG_TYPES,
        ["empty string", [""]],
        ["array of number", [5]],
        ["bare name", ["sh", "-c", REPORT]],
        ["relative ./", ["./missing-prog"]],
        ["bare missing", ["no-such-prog-execbox"]],
        ["absolute missing", (c: Ctx, i: number) => [`${c.dir}/e${i}/missing/prog`]],
        ["a directory", (c: Ctx, i: number) => [`${c.dir}/e${i}/dir`]],
        ["not executable", (c: Ctx, i: number) => [`${c.dir}/e${i}/a.txt`]],
        ["dangling symlink", (c: Ctx, i: number) => [`${c.dir}/e${i}/dangling`]],
        ["file: URI", ["file:///bin/sh", "-c", "echo uri"]],
        ["NUL byte", ["/bin/sh", "-c", "echo a\u0000b"]],
        ["non-ASCII", ["/bin/sh", "-c", "echo é"]],
      ],
      // Past the kernel's 128 KiB per argument apart: a PTY child starts and dies on the reference, execbox reports E2BIG (a deliberate difference).
      "argv#too-long": [
        ["200 KB argument", ["/bin/sh", "-c", `: ${"a".repeat(200_000)}; echo big`]],
        ["3 MB argument (E2BIG)", ["/bin/sh", "-c", `: ${"a".repeat(3_000_000)}; echo huge`]],
      ],
      // A cwd that is missing or not a directory apart: a PTY runs there in $HOME on the reference (a deliberate difference).
      cwd: CWD_EDGES.filter(([l]) => !NOT_A_DIRECTORY.has(l)),
      "cwd#not-a-directory": CWD_EDGES.filter(([l]) => NOT_A_DIRECTORY.has(l)),
      env: [
        ["absent", ABSENT],
        ...WRONG_TYPES,
        ["value number", { X: 5 }],
        ["value null", { X: null }],
        ["empty name", { "": "v", X: "2" }],
        ["name with =", { "A=B": "v", X: "2" }],
        ["NUL in value", { X: "a\u0000b" }],
        ["non-ASCII", { X: "é" }],
        ["no PATH", { X: "3" }],
        ["empty PATH", { PATH: "", X: "4" }],
        ["200 KB value", { PATH: "/usr/bin:/bin", X: "v".repeat(200_000) }],
      ],
      tty: [["absent", ABSENT], ...OPT_BOOL.slice(1)],
      pipeStdin: OPT_BOOL,
      arg0: [["absent", ABSENT], ...WRONG_TYPES, ["empty", ""], ["custom", "custom-name"], ["path", "/x/y"]],
      envPolicy: [["absent", ABSENT], ...WRONG_TYPES, ["valid", ENV_POLICY], ["missing fields", { inherit: "all" }], ["extra key", { ...ENV_POLICY, extra: 1 }]],
      "envPolicy.inherit": { edges: [["absent", ABSENT], ...WRONG_TYPES, ["core", "core"], ["all", "all"], ["none", "none"], ["All", "All"]], valid: withPolicy(valid) },
      "envPolicy.set": { edges: [["absent", ABSENT], ...WRONG_TYPES, ["number value", { X: 5 }], ["PATH", { PATH: "/bin" }]], valid: withPolicy(valid) },
      "envPolicy.exclude": { edges: [["absent", ABSENT], ...WRONG_TYPES, ["X", ["X"]], ["glob", ["*"]], ["array of number", [5]]], valid: withPolicy(valid) },
      "envPolicy.includeOnly": { edges: [["absent", ABSENT], ...WRONG_TYPES, ["X", ["X"]], ["glob", ["P*"]], ["empty string", [""]]], valid: withPolicy(valid) },
      "envPolicy.ignoreDefaultExcludes": { edges: OPT_BOOL, valid: withPolicy(valid) },
      metadata: [
        ["absent", ABSENT],
        ...WRONG_TYPES,
        ["threadId not a UUID", { threadId: "t" }],
        ["threadId UUID", { threadId: "0199a213-81c0-7800-8aa1-bbab2a035a53" }],
        ["toolCallId number", { toolCallId: 5 }],
      ],
      enforceManagedNetwork: OPT_BOOL,
      managedNetwork: [["absent", ABSENT], ...WRONG_TYPES, ["ports", { loopbackPorts: [8080], allowLocalBinding: true }], ["port too big", { loopbackPorts: [70000] }]],
      networkProxy: [["absent", ABSENT], ["null", null], ["string", "x"], ["object", {}]],
      shellSnapshot: [["absent", ABSENT], ...WRONG_TYPES],
      // No PATH: the reference then finds its own sandbox helper (with one, it looks the helper up there and fails).
      sandbox: { edges: SANDBOX_EDGES, valid: (c, i) => ({ ...valid(c, i), env: { X: "1" } }) },
    },
  };
}

function withPolicy(valid: (c: Ctx, i: number) => Record<string, unknown>) {
  return (c: Ctx, i: number) => ({ ...valid(c, i), envPolicy: { ...ENV_POLICY } });
}

/**
 * A closed process `r` with three lines of output (seqs 1–3) for the read probes. It pauses before
 * exiting: under load the reference's exit raced its last output, and the seqs differed run to run.
 */
const READ_BEFORE: Step[] = [sh("r", "echo one; sleep 0.1; echo two >&2; sleep 0.1; echo three; sleep 0.1"), req("process/read", { processId: "r", afterSeq: 1_000_000, waitMs: 3_000 }, { read: "bytes" }), awaitProcess("r")];

/**
 * A running `cat` into /dev/null: with stdin piped, or on a PTY with echo and line editing off before it says
 * "ready" (the read waits for that), so writes are accepted and nothing comes back.
 */
const writeBefore = (tty: boolean): Step[] =>
  tty
    ? [sh("w", "stty -echo -icanon; echo ready; exec cat >/dev/null", { tty: true }), req("process/read", { processId: "w", afterSeq: 0, waitMs: 3_000 }, { read: "bytes" })]
    : [sh("w", "exec cat >/dev/null", { pipeStdin: true })];

const ID_EDGES: Edge[] = [["absent", ABSENT], ...WRONG_TYPES, ["empty", ""], ["unknown", "nope"]];

const PROCESS_TABLES: MethodTable[] = [
  startTable(false),
  startTable(true),
  {
    name: "probe-gen/process/read",
    method: "process/read",
    valid: () => ({ processId: "r" }),
    before: READ_BEFORE,
    params: { processId: ID_EDGES, afterSeq: U64, maxBytes: U64, waitMs: U64.filter(([l]) => !/^(1|1\.0)$/.test(l)) },
  },
  writeTable(false),
  writeTable(true),
  {
    name: "probe-gen/process/signal",
    method: "process/signal",
    valid: (_c, i) => ({ processId: pid(i), signal: "interrupt" }),
    // The read waits for "up", so the signal never races the first output.
    eachBefore: (i) => [sh(pid(i), "echo up; exec sleep 30"), req("process/read", { processId: pid(i), afterSeq: 0, waitMs: 3_000 }, { read: "bytes" })],
    eachAfter: (i) => [req("process/read", { processId: pid(i), afterSeq: 1_000_000, waitMs: 400 }, { read: "bytes" })],
    params: {
      processId: ID_EDGES,
      signal: [["absent", ABSENT], ...WRONG_TYPES, ["interrupt", "interrupt"], ["kill", "kill"], ["Interrupt", "Interrupt"], ["SIGINT", "SIGINT"], ["2", 2]],
    },
  },
  {
    name: "probe-gen/process/terminate",
    method: "process/terminate",
    valid: () => ({ processId: "t" }),
    // Waits for `done` to close (a long-poll read returned at its exit or at its close, whichever the load let it see first).
    // No second terminate of `t`: whether its SIGKILL had been reaped by then (`running` true or false) is a race on both.
    before: [sh("t", "exec sleep 30"), sh("done", "true"), awaitProcess("done")],
    params: { processId: [...ID_EDGES, ["exited", "done"], ["running", "t"]] },
  },
];

function writeTable(tty: boolean): MethodTable {
  return {
    name: `probe-gen/process/write-${tty ? "pty" : "pipe"}`,
    method: "process/write",
    valid: (_c, i) => ({ processId: "w", chunk: b64("x\n"), writeId: `w${i}` }),
    before: writeBefore(tty),
    params: {
      processId: ID_EDGES,
      chunk: [
        ["absent", ABSENT],
        ...WRONG_TYPES,
        ["empty", ""],
        ["not base64", "not base64!"],
        ["no padding", "aGk"],
        ["1 MiB", Buffer.alloc(1 << 20, 0x61).toString("base64")],
      ],
      writeId: [["absent", ABSENT], ...WRONG_TYPES, ["empty", ""], ["reused", "w0"], ["long", "w".repeat(10_000)]],
    },
  };
}

/** The sandbox edges that are whole contexts (not the shape errors), each given `cwd` = the scenario dir. */
function withSandboxCwd(edges: Edge[]): Edge[] {
  const shapeErrors = new Set(["absent", "null", "string", "object"]);
  return edges
    .filter(([label]) => !shapeErrors.has(label))
    .map(([label, v]): Edge => [label, (c: Ctx, i: number) => ({ ...(edgeValue(v, c, i) as object), cwd: c.uri })]);
}

const ENV_TABLES: MethodTable[] = [
  {
    name: "probe-gen/environment/info",
    method: "environment/info",
    valid: () => ({}),
    params: { "": [["absent", ABSENT], ...WRONG_TYPES, ["extra key", { a: 1 }]] },
  },
  {
    name: "probe-gen/capabilities/discoverV2",
    method: "capabilities/discoverV2",
    valid: (c, i) => ({ cwd: u("dir")(c, i) }),
    // The reference requires `cwd` inside this method's sandbox context: probe it without and with one.
    params: { cwd: pathEdges("dir"), sandbox: SANDBOX_EDGES, "sandbox#with-cwd": withSandboxCwd(SANDBOX_EDGES) },
  },
  {
    name: "probe-gen/capabilityRoots/discoverV1",
    method: "capabilityRoots/discoverV1",
    valid: (c, i) => ({ roots: [{ id: "r1", path: u("dir")(c, i) }] }),
    params: {
      roots: [["absent", ABSENT], ...WRONG_TYPES, ["array of number", [5]], ["array of null", [null]]],
      "roots.0.id": [["absent", ABSENT], ...WRONG_TYPES, ["empty", ""], ["long", "i".repeat(10_000)]],
      "roots.0.path": pathEdges("dir"),
      "roots.0.sandbox": SANDBOX_EDGES,
    },
  },
  {
    name: "probe-gen/environmentConfig/read",
    method: "environmentConfig/read",
    valid: (c, i) => ({ cwd: u("dir")(c, i), configPaths: [["model"]], requirementsPaths: [] }),
    params: {
      cwd: pathEdges("dir"),
      configPaths: [["absent", ABSENT], ...WRONG_TYPES, ["[[]]", [[]]], ["[[number]]", [[5]]], ["nested key", [["a", "b", "c"]]], ["[string]", ["model"]]],
      requirementsPaths: [["absent", ABSENT], ...WRONG_TYPES, ["[[]]", [[]]], ["[[number]]", [[5]]], ["key", [["sandbox_mode"]]]],
    },
  },
];

export const probeProcessScenarios: Scenario[] = [...PROCESS_TABLES, ...ENV_TABLES].flatMap((t) => generate(t, edgeFixture));
