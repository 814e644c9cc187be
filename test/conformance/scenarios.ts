/**
 * Every conformance scenario, in run order. Each is a named list of client
 * steps (see types.ts) played against both executors; the groups live in
 * their own files by README section.
 */
import { envPolicyScenarios } from "./scenarios-env-policy.ts";
import { envScenarios } from "./scenarios-env.ts";
import { envelopeScenarios } from "./scenarios-envelope.ts";
import { fsBasicScenarios } from "./scenarios-fs-basic.ts";
import { fsCopyProbeScenarios } from "./scenarios-fs-copy-probe.ts";
import { fsHandleScenarios } from "./scenarios-fs-handles.ts";
import { fsMutateScenarios } from "./scenarios-fs-mutate.ts";
import { fsUriScenarios } from "./scenarios-fs-uri.ts";
import { fsWalkScenarios } from "./scenarios-fs-walk.ts";
import { fsWatchScenarios } from "./scenarios-fs-watch.ts";
import { httpRequestScenarios } from "./scenarios-http-request.ts";
import { httpScenarios } from "./scenarios-http.ts";
import { lifecycleScenarios } from "./scenarios-lifecycle.ts";
import { processControlScenarios } from "./scenarios-process-control.ts";
import { processProbeScenarios } from "./scenarios-process-probe.ts";
import { probeFsScenarios } from "./scenarios-probe-fs.ts";
import { probeProcessScenarios } from "./scenarios-probe-process-params.ts";
import { processStartScenarios } from "./scenarios-process-start.ts";
import { sandboxScenarios } from "./scenarios-sandbox.ts";
import { shellSnapshotScenarios } from "./scenarios-shell-snapshot.ts";
import { sandboxDiscoveryScenarios } from "./scenarios-sandbox-discovery.ts";
import { sandboxOpenScenarios } from "./scenarios-sandbox-open.ts";
import type { Scenario } from "./types.ts";
import { v171ProbeScenarios } from "./scenarios-v171-probe.ts";

export type { Scenario, Step } from "./types.ts";

export const SCENARIOS: Scenario[] = [
  ...lifecycleScenarios,
  ...envelopeScenarios,
  ...envScenarios,
  ...processStartScenarios,
  ...processControlScenarios,
  ...processProbeScenarios,
  ...envPolicyScenarios,
  ...httpScenarios,
  ...fsBasicScenarios,
  ...fsMutateScenarios,
  ...fsCopyProbeScenarios,
  ...fsWalkScenarios,
  ...fsHandleScenarios,
  ...fsWatchScenarios,
  ...fsUriScenarios,
  ...httpRequestScenarios,
  ...sandboxScenarios,
  ...shellSnapshotScenarios,
  ...sandboxDiscoveryScenarios,
  ...sandboxOpenScenarios,
  ...v171ProbeScenarios,
  ...probeProcessScenarios,
  ...probeFsScenarios,
];
