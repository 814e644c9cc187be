/**
 * README §3 (envelope), §5 (lifecycle) and §6 (sessions): what the server
 * answers, rejects or drops the connection for, independent of any feature.
 */
import { type Scenario, type Step, awaitProcess, connect, expectClose, notify, raw, ready, req, sh, sleep } from "./types.ts";

const ZERO_UUID = "00000000-0000-0000-0000-000000000000";

/** One request of every method family, so the family names in lifecycle errors are all compared. */
const everyFamily: Step[] = [
  req("process/read", { processId: "p" }),
  req("process/start", (c) => ({ processId: "gated", argv: ["true"], cwd: c.uri, env: {}, tty: false })),
  req("process/start", {}), // params errors win over the lifecycle gate (§4)
  req("environment/info"),
  req("environment/status", null),
  req("capabilities/discoverV2", (c) => ({ cwd: c.uri })),
  req("capabilityRoots/discoverV1", { roots: [] }),
  req("environmentConfig/read", (c) => ({ cwd: c.uri, configPaths: [["model"]], requirementsPaths: [] })),
  req("no/suchMethod", {}),
];

export const lifecycleScenarios: Scenario[] = [
  { name: "lifecycle/before-initialize", steps: [connect(), ...everyFamily] },
  {
    name: "lifecycle/before-initialized",
    steps: [connect(), req("initialize", { clientName: "conformance" }), ...everyFamily, notify("initialized", {}), req("environment/status")],
  },
  {
    name: "lifecycle/double-initialize-and-initialized",
    steps: [...ready(), req("initialize", { clientName: "again" }), notify("initialized", {}), req("environment/status"), expectClose(300)],
  },
  {
    name: "lifecycle/initialize-params-errors-then-retry",
    steps: [
      connect(),
      req("initialize"),
      req("initialize", null),
      req("initialize", {}),
      req("initialize", { clientName: 7 }),
      req("initialize", { clientName: "x", resumeSessionId: 5 }),
      req("initialize", { clientName: "x", resumeSessionId: null }),
      notify("initialized"), // params absent works as well as {}
      req("environment/status"),
    ],
  },
  { name: "lifecycle/initialized-before-initialize-drops", steps: [connect(), notify("initialized", {}), expectClose()] },
  { name: "lifecycle/unknown-notification-drops", steps: [...ready(), req("environment/status"), notify("foo/bar", {}), expectClose()] },
  { name: "lifecycle/unknown-notification-before-init-drops", steps: [connect(), notify("some/otherNotification"), expectClose()] },
  { name: "lifecycle/client-result-object-drops", steps: [...ready(), raw('{"id":1,"result":{}}', { expect: "none" }), expectClose()] },
  {
    name: "lifecycle/client-error-object-drops",
    steps: [connect(), raw('{"id":5,"error":{"code":1,"message":"x"}}', { expect: "none" }), expectClose()],
  },
  {
    name: "lifecycle/notification-names-as-requests",
    steps: [...ready(), req("initialized", {}), req("process/output", {}), req("foo/bar"), req("environment/status")],
  },
  {
    name: "session/resume-unknown-then-retry",
    steps: [
      connect(),
      req("initialize", { clientName: "conformance", resumeSessionId: ZERO_UUID }),
      req("initialize", { clientName: "conformance", resumeSessionId: "not-a-uuid" }),
      req("initialize", { clientName: "conformance" }),
      notify("initialized", {}),
      req("environment/status"),
    ],
  },
  {
    name: "session/resume-attached",
    steps: [
      ...ready("c1"),
      connect("c2"),
      req("initialize", (c) => ({ clientName: "conformance", resumeSessionId: c.sessions.c1 }), { conn: "c2" }),
      req("environment/status", undefined, { conn: "c1" }), // the attached connection is unaffected
      req("initialize", { clientName: "conformance" }, { conn: "c2" }), // a failed initialize may be retried
    ],
  },
  {
    // Output produced while detached is readable after resume; only later notifications reach the new connection.
    name: "session/resume-detached",
    steps: [
      ...ready("c1"),
      sh("keep", "printf before; sleep 0.6; printf during; sleep 1.4; printf after; sleep 0.3"),
      sleep(200),
      { kind: "close", conn: "c1" },
      sleep(900),
      connect("c2"),
      req("initialize", (c) => ({ clientName: "conformance", resumeSessionId: c.sessions.c1 }), { conn: "c2" }),
      notify("initialized", {}, "c2"),
      req("process/read", { processId: "keep" }, { conn: "c2" }),
      awaitProcess("keep", { conn: "c2", exact: true }),
      req("process/read", { processId: "keep", afterSeq: 1 }, { conn: "c2" }),
    ],
  },
  {
    // processIds are scoped to the session: a second session neither sees nor collides with them.
    name: "session/process-ids-per-session",
    steps: [
      ...ready("c1"),
      sh("p", "echo one"),
      awaitProcess("p"),
      ...ready("c2"),
      req("process/read", { processId: "p" }, { conn: "c2" }),
      req("process/write", { processId: "p", chunk: "", writeId: "w" }, { conn: "c2" }),
      req("process/terminate", { processId: "p" }, { conn: "c2" }),
      sh("p", "echo two", {}, { conn: "c2" }),
      awaitProcess("p", { conn: "c2" }),
    ],
  },
];
