/**
 * Every conformance scenario, in run order. Each is a named list of client
 * steps (see types.ts) played against both executors; the groups live in
 * their own files by README section.
 */
import { envPolicyScenarios } from "./scenarios-env-policy.ts";
import { envScenarios } from "./scenarios-env.ts";
import { envelopeScenarios } from "./scenarios-envelope.ts";
import { httpScenarios } from "./scenarios-http.ts";
import { lifecycleScenarios } from "./scenarios-lifecycle.ts";
import { processControlScenarios } from "./scenarios-process-control.ts";
import { processStartScenarios } from "./scenarios-process-start.ts";
import type { Scenario } from "./types.ts";

export type { Scenario, Step } from "./types.ts";

export const SCENARIOS: Scenario[] = [
  ...lifecycleScenarios,
  ...envelopeScenarios,
  ...envScenarios,
  ...processStartScenarios,
  ...processControlScenarios,
  ...envPolicyScenarios,
  ...httpScenarios,
];
