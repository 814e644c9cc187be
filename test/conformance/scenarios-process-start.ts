/**
 * README §12.1/§12.3/§12.5: starting processes (params, cwd, program lookup,
 * arg0, exact env), their output and exit, and writing to stdin.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Scenario, awaitProcess, b64, ready, req, sh, sleep, startParams } from "./types.ts";

const PATH_ENV = { PATH: "/usr/bin:/bin" };
const plainFile = (dir: string) => writeFileSync(join(dir, "plain.txt"), "x");

export const processStartScenarios: Scenario[] = [
  {
    name: "process/echo-out-err-exit-code",
    steps: [
      ...ready(),
      // The pauses make the order certain on both executors (it raced under load: the pipes, and the
      // reference's exit against its last output).
      sh("p1", "echo out; sleep 0.1; echo err >&2; sleep 0.2; echo more; sleep 0.1; exit 3"),
      awaitProcess("p1"),
      req("process/read", { processId: "p1" }, { read: "streams" }),
      req("process/read", { processId: "p1", afterSeq: 2, maxBytes: 65536 }),
    ],
  },
  {
    name: "process/tty-write",
    steps: [
      ...ready(),
      sh("t1", "read x; echo got:$x", { tty: true }),
      req("process/write", { processId: "t1", chunk: b64("hi\n"), writeId: "w-1" }),
      awaitProcess("t1"),
      req("process/read", { processId: "t1" }, { read: "bytes" }),
    ],
  },
  {
    name: "process/tty-env-and-size",
    steps: [...ready(), sh("t2", "env | sort; stty size; test -t 0 && echo stdin-is-tty", { tty: true }), awaitProcess("t2")],
  },
  {
    name: "process/pipe-stdin-write-dedupe",
    steps: [
      ...ready(),
      sh("s1", "while read l; do echo line:$l; done; echo eof", { pipeStdin: true }),
      req("process/write", { processId: "s1", chunk: b64("a\n"), writeId: "w1" }),
      req("process/write", { processId: "s1", chunk: b64("b\n"), writeId: "w1" }),
      req("process/write", { processId: "s1", chunk: b64("c\n"), writeId: "w2" }),
      req("process/write", { processId: "s1", chunk: "", writeId: "w3" }),
      sleep(400),
      req("process/terminate", { processId: "s1" }),
      awaitProcess("s1"),
      req("process/terminate", { processId: "s1" }),
      req("process/write", { processId: "s1", chunk: b64("d\n"), writeId: "w4" }),
      req("process/write", { processId: "s1", chunk: b64("e\n"), writeId: "w1" }),
    ],
  },
  {
    name: "process/stdin-closed-and-unknown",
    steps: [
      ...ready(),
      sh("n1", "sleep 0.5"),
      req("process/write", { processId: "n1", chunk: b64("x"), writeId: "w1" }),
      req("process/write", { processId: "n1", chunk: "", writeId: "w2" }),
      req("process/write", { processId: "nope", chunk: b64("x"), writeId: "w1" }),
      awaitProcess("n1"),
      // Without pipeStdin a non-tty child's stdin is at EOF: cat exits 0 at once.
      req("process/start", startParams("cat", ["cat"])),
      awaitProcess("cat"),
    ],
  },
  {
    name: "process/duplicate-and-reserved-ids",
    steps: [
      ...ready(),
      sh("d", "sleep 0.3"),
      sh("d", "true"),
      awaitProcess("d"),
      sh("d", "true"), // still reserved while retained after exit
      sh("", "echo empty-id"),
      awaitProcess(""),
    ],
  },
  {
    name: "process/failed-start-does-not-reserve",
    steps: [
      ...ready(),
      req("process/start", (c) => ({ processId: "f", argv: ["true"], cwd: `${c.uri}/missing`, env: PATH_ENV, tty: false })),
      sh("f", "echo ok"),
      awaitProcess("f"),
    ],
  },
  {
    name: "process/cwd-variants",
    setup: plainFile,
    steps: [
      ...ready(),
      req("process/start", { processId: "c1", argv: ["pwd"], cwd: "sub", env: PATH_ENV, tty: false }),
      req("process/start", (c) => ({ processId: "c2", argv: ["pwd"], cwd: c.dir, env: PATH_ENV, tty: false })),
      req("process/start", { processId: "c3", argv: ["pwd"], cwd: "http://example.com/x", env: PATH_ENV, tty: false }),
      req("process/start", (c) => ({ processId: "c4", argv: ["pwd"], cwd: `${c.uri}?q=1`, env: PATH_ENV, tty: false })),
      req("process/start", { processId: "c5", argv: ["pwd"], cwd: "file://otherhost/tmp", env: PATH_ENV, tty: false }),
      req("process/start", (c) => ({ processId: "c6", argv: ["pwd"], cwd: `${c.uri}/missing`, env: PATH_ENV, tty: false })),
      req("process/start", (c) => ({ processId: "c7", argv: ["pwd"], cwd: `${c.uri}/plain.txt`, env: PATH_ENV, tty: false })),
      req("process/start", (c) => ({ processId: "c8", argv: ["pwd"], cwd: `file://localhost${c.dir}/x/../`, env: PATH_ENV, tty: false })),
      awaitProcess("c8"),
      req("process/start", (c) => ({ processId: "c9", argv: ["pwd"], cwd: `file:${c.dir}`, env: PATH_ENV, tty: false })),
      awaitProcess("c9"),
      req("process/start", { processId: "c10", argv: ["pwd"], cwd: "", env: PATH_ENV, tty: false }),
    ],
  },
  {
    name: "process/program-lookup-and-errors",
    steps: [
      ...ready(),
      req("process/start", startParams("e1", [])),
      req("process/start", startParams("e2", ["/nonexistent/program"])),
      req("process/start", startParams("e3", ["no-such-program-xyz"])),
      req("process/start", startParams("e4", ["sh", "-c", "echo via-server-path"], { env: {} })),
      awaitProcess("e4"),
      req("process/start", startParams("e5", ["sh", "-c", "echo tty"], { env: {}, tty: true })),
      req("process/start", startParams("e6", ["/bin/sh", "-c", "echo abs-tty"], { env: {}, tty: true })),
      awaitProcess("e6"),
      req("process/start", startParams("e7", ["/nonexistent/program"], { tty: true })),
      req("process/start", startParams("e8", [""])),
    ],
  },
  {
    name: "process/arg0",
    steps: [
      ...ready(),
      sh("a1", 'echo "$0"', { arg0: "custom-name" }),
      awaitProcess("a1"),
      sh("a2", 'echo "$0"', { arg0: null }),
      awaitProcess("a2"),
      sh("a3", 'echo "$0"', { arg0: 5 }),
    ],
  },
  {
    name: "process/env-is-exact",
    steps: [
      ...ready(),
      sh("v1", "env | sort", { env: { PATH: "/usr/bin:/bin", FOO: "bar", EMPTY: "", "WITH SPACE": "y" } }),
      awaitProcess("v1"),
      sh("v2", "env | sort", { env: { PATH: "/usr/bin:/bin", N: 5 } }),
    ],
  },
  {
    name: "process/non-utf8-and-large-output",
    steps: [
      ...ready(),
      sh("b1", "printf '\\377\\376abc\\200\\n'; sleep 0.2"),
      awaitProcess("b1", { exact: true }),
      req("process/read", { processId: "b1" }),
      sh("b2", "head -c 300000 /dev/zero | tr '\\0' x; echo; head -c 5000 /dev/zero | tr '\\0' y >&2"),
      awaitProcess("b2"),
      req("process/read", { processId: "b2" }, { read: "bytes" }),
    ],
  },
];
