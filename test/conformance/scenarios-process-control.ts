/**
 * README §12.4/§12.6/§12.7 and the params validation of every process method:
 * read paging and long-poll, interrupt, terminate.
 */
import { type Scenario, type Step, awaitProcess, raw, req, ready, sh, sleep, startParams } from "./types.ts";

/** Three output chunks 300 ms apart, then a pause so the exit is observed after the last chunk: deterministic seqs 1..5. */
const THREE_CHUNKS = "printf a; sleep 0.3; printf bb; sleep 0.3; printf ccc; sleep 0.3";

const read = (params: Record<string, unknown>): Step => req("process/read", { processId: "r", ...params });

export const processControlScenarios: Scenario[] = [
  {
    name: "process/read-paging-and-maxBytes",
    steps: [
      ...ready(),
      sh("r", THREE_CHUNKS),
      awaitProcess("r", { exact: true }),
      read({}),
      read({ afterSeq: 1 }),
      read({ afterSeq: 3 }),
      read({ afterSeq: 10 }),
      read({ afterSeq: null, maxBytes: null, waitMs: null }),
      read({ maxBytes: 0 }),
      read({ maxBytes: 1 }),
      read({ maxBytes: 2 }),
      read({ maxBytes: 3 }),
      read({ maxBytes: 100 }),
      read({ afterSeq: 1, maxBytes: 0 }),
      read({ afterSeq: 5, maxBytes: 10 }),
      // u64::MAX is valid; JSON.stringify cannot carry it, hence a raw frame.
      raw('{"id":50,"method":"process/read","params":{"processId":"r","afterSeq":18446744073709551615}}'),
    ],
  },
  {
    name: "process/read-params",
    steps: [
      ...ready(),
      sh("r", "true"),
      awaitProcess("r"),
      req("process/read", {}),
      req("process/read", { processId: 5 }),
      read({ afterSeq: -1 }),
      read({ afterSeq: 1.5 }),
      read({ afterSeq: "1" }),
      read({ maxBytes: -1 }),
      read({ waitMs: -5 }),
      read({ waitMs: 0.5 }),
      read({ afterSeq: true }),
      raw('{"id":51,"method":"process/read","params":{"processId":"r","maxBytes":18446744073709551616}}'),
      raw('{"id":52,"method":"process/read","params":{"processId":"r","afterSeq":1e2}}'),
      raw('{"id":53,"method":"process/read","params":{"processId":"r","afterSeq":7.0}}'),
      raw('{"id":54,"method":"process/read","params":{"processId":"r","waitMs":-0}}'),
      raw('{"id":55,"method":"process/read","params":{"processId":"r","maxBytes":18446744073709551615}}'),
      raw('{"id":56,"method":"process/read","params":{"processId":"r","afterSeq":1,"note":[1.5,1e400]}}'),
      req("process/read", { processId: "never-started" }),
    ],
  },
  {
    name: "process/read-long-poll",
    steps: [
      ...ready(),
      // A background child keeps stdout open 0.5 s past the exit, so "woken by exit" and "woken by close"
      // are separate, deterministic moments (exit and close back-to-back would race in both executors).
      sh("r", "sleep 1; printf late; (sleep 1.5 >&1 &); sleep 1"),
      req("process/read", { processId: "r", waitMs: 0 }, { timed: true }),
      req("process/read", { processId: "r", waitMs: 5000 }, { timed: true }),
      req("process/read", { processId: "r", afterSeq: 1, waitMs: 5000 }, { timed: true, read: "streams" }),
      req("process/read", { processId: "r", afterSeq: 2, waitMs: 5000 }, { timed: true, read: "streams" }),
      awaitProcess("r"),
      req("process/read", { processId: "r", afterSeq: 10, waitMs: 5000 }, { timed: true, read: "streams" }),
    ],
  },
  {
    name: "process/read-long-poll-timeout-blocks-connection",
    steps: [
      ...ready(),
      sh("q", "sleep 3"),
      req("process/read", { processId: "q", waitMs: 1000 }, { timed: true }),
      // With --concurrent-requests 1 the long-poll delays the next request on the connection (§7).
      req("process/read", { processId: "q", waitMs: 1000 }, { id: 100, wait: false }),
      req("environment/status", undefined, { id: 101, wait: false }),
      { kind: "await", ids: [100, 101] },
      req("process/terminate", { processId: "q" }),
      awaitProcess("q"),
    ],
  },
  {
    name: "process/signal-interrupt",
    steps: [
      ...ready(),
      sh("i1", "exec sleep 5"),
      sleep(200),
      req("process/signal", { processId: "i1", signal: "interrupt" }),
      awaitProcess("i1"),
      sh("i2", "trap 'echo trapped; exit 7' INT; echo ready; while :; do sleep 0.1; done"),
      sleep(300),
      req("process/signal", { processId: "i2", signal: "interrupt" }),
      awaitProcess("i2"),
      sh("i3", "exec sleep 5", { tty: true }),
      sleep(300),
      req("process/signal", { processId: "i3", signal: "interrupt" }),
      awaitProcess("i3"),
      req("process/signal", { processId: "i1", signal: "interrupt" }),
      req("process/signal", { processId: "nope", signal: "interrupt" }),
    ],
  },
  {
    name: "process/signal-params",
    steps: [
      ...ready(),
      req("process/signal", { processId: "x", signal: "kill" }),
      req("process/signal", { processId: "x", signal: "INT" }),
      req("process/signal", { processId: "x", signal: "Interrupt" }),
      req("process/signal", { processId: "x" }),
      req("process/signal", { signal: "interrupt" }),
      req("process/signal", { processId: "x", signal: 2 }),
      req("process/signal", {}),
    ],
  },
  {
    name: "process/terminate",
    steps: [
      ...ready(),
      sh("k1", "trap '' TERM INT HUP; echo started; sleep 5"),
      sleep(200),
      req("process/terminate", { processId: "k1" }),
      awaitProcess("k1"),
      req("process/terminate", { processId: "k1" }),
      req("process/terminate", { processId: "unknown" }),
      sh("k2", "sleep 5", { tty: true }),
      sleep(200),
      req("process/terminate", { processId: "k2" }),
      awaitProcess("k2"),
      req("process/terminate", {}),
      req("process/terminate", { processId: 5 }),
    ],
  },
  {
    // The kill reaches the whole process group: closed arrives promptly because no background child keeps the pipes open.
    name: "process/terminate-kills-process-group",
    steps: [
      ...ready(),
      sh("g1", "sleep 4 & sleep 4 & echo spawned; wait"),
      sleep(300),
      req("process/terminate", { processId: "g1" }),
      awaitProcess("g1", { timeoutMs: 2500 }),
    ],
  },
  {
    name: "process/start-params",
    steps: [
      ...ready(),
      req("process/start", {}),
      req("process/start", startParams(5 as unknown as string, ["true"])),
      req("process/start", (c) => ({ processId: "m", cwd: c.uri, env: {}, tty: false })),
      req("process/start", startParams("m", "true" as unknown as string[])),
      req("process/start", startParams("m", [1] as unknown as string[])),
      req("process/start", { processId: "m", argv: ["true"], env: {}, tty: false }),
      req("process/start", (c) => ({ processId: "m", argv: ["true"], cwd: c.uri, tty: false })),
      req("process/start", (c) => ({ processId: "m", argv: ["true"], cwd: c.uri, env: {} })),
      req("process/start", startParams("m", ["true"], { tty: "yes" })),
      req("process/start", startParams("m", ["true"], { env: null })),
      req("process/start", startParams("m", ["true"], { env: [] })),
      req("process/start", startParams("m", ["true"], { pipeStdin: null })),
      req("process/start", startParams("m", ["true"], { envPolicy: "all" })),
      req("process/start", startParams("m", ["true"], { metadata: { threadId: "not-a-uuid" } })),
      req("process/start", startParams("ok", ["true"], { unknownField: 1, envPolicy: null, sandbox: null, metadata: null })),
      awaitProcess("ok"),
    ],
  },
  {
    name: "process/write-params",
    steps: [
      ...ready(),
      req("process/write", { processId: "x", chunk: "!!", writeId: "w" }),
      req("process/write", { processId: "x", chunk: "YQ", writeId: "w" }),
      req("process/write", { processId: "x", chunk: "YQ=", writeId: "w" }),
      req("process/write", { processId: "x", chunk: "YQ==\n", writeId: "w" }),
      req("process/write", { processId: "x", chunk: "-_8=", writeId: "w" }),
      req("process/write", { processId: "x", chunk: "", writeId: "" }),
      req("process/write", { processId: "x", chunk: "!!", writeId: "" }),
      req("process/write", { processId: "x", chunk: "" }),
      req("process/write", { processId: "x", writeId: "w" }),
      req("process/write", { chunk: "", writeId: "w" }),
      req("process/write", { processId: "x", chunk: "", writeId: 5 }),
      req("process/write", { processId: "x", chunk: 5, writeId: "w" }),
      req("process/write", { processId: "x", chunk: "YWJj", writeId: "w" }),
    ],
  },
];
