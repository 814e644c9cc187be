/**
 * README §12.2: envPolicy. Children only print variables this tool put into
 * the servers' environment (see servers.ts serverEnv) or presence flags of
 * standard ones, so the output is comparable between the two executors.
 */
import { type Scenario, awaitProcess, ready, req, sh } from "./types.ts";

/** Prints each CONF_* variable we set, or "-" when absent; plus presence flags for core variables. */
const PRINT = [
  'echo "plain=${CONF_PLAIN--} api_key=${CONF_API_KEY--} my_secret=${CONF_MY_SECRET--} lower_token=${conf_lower_token--} drop=${CONF_DROP_ME--}"',
  'echo "set_a=${SET_A--} set_b=${SET_B--} env_wins=${ENV_WINS--} lang=${LANG--}"',
  'echo "home=${HOME+present} path=${PATH+present} shell=${SHELL+present} user=${USER+present}"',
].join("; ");

const policy = (p: Record<string, unknown>) => ({ inherit: "all", ignoreDefaultExcludes: false, exclude: [], set: {}, includeOnly: [], ...p });
const PATH_ONLY = { PATH: "/usr/bin:/bin" };

export const envPolicyScenarios: Scenario[] = [
  {
    name: "envPolicy/inherit-none",
    steps: [
      ...ready(),
      sh("n", `${PRINT}; env | cut -d= -f1 | sort | tr '\\n' ' '`, { envPolicy: policy({ inherit: "none", set: { SET_A: "a" } }), env: PATH_ONLY }),
      awaitProcess("n"),
    ],
  },
  {
    name: "envPolicy/inherit-core",
    steps: [...ready(), sh("c", PRINT, { envPolicy: policy({ inherit: "core" }), env: {} }), awaitProcess("c")],
  },
  {
    name: "envPolicy/inherit-all-default-excludes",
    steps: [...ready(), sh("a", PRINT, { envPolicy: policy({}), env: {} }), awaitProcess("a")],
  },
  {
    name: "envPolicy/ignore-default-excludes-and-exclude-globs",
    steps: [
      ...ready(),
      sh("x1", PRINT, { envPolicy: policy({ ignoreDefaultExcludes: true, exclude: ["conf_drop_*"] }), env: {} }),
      awaitProcess("x1"),
      sh("x2", PRINT, { envPolicy: policy({ ignoreDefaultExcludes: true, exclude: ["CONF_?LAIN", "*_TOKEN"] }), env: {} }),
      awaitProcess("x2"),
      sh("x3", PRINT, { envPolicy: policy({ ignoreDefaultExcludes: true, exclude: ["CONF_[AM]*"] }), env: {} }),
      awaitProcess("x3"),
    ],
  },
  {
    name: "envPolicy/set-includeOnly-and-env-overlay",
    steps: [
      ...ready(),
      sh("s1", PRINT, {
        envPolicy: policy({ set: { SET_A: "a", SET_B: "b", CONF_API_KEY: "from-set" }, includeOnly: ["set_*", "CONF_PLAIN", "CONF_API_KEY"] }),
        env: { PATH: "/usr/bin:/bin", ENV_WINS: "x", SET_B: "from-env" },
      }),
      awaitProcess("s1"),
      // includeOnly empty keeps everything; `set` may add names the default excludes would drop.
      sh("s2", PRINT, { envPolicy: policy({ inherit: "none", set: { SET_A: "a", MY_TOKEN: "t" } }), env: {} }),
      awaitProcess("s2"),
      sh("s3", `${PRINT}; echo "my_token=\${MY_TOKEN--}"`, { envPolicy: policy({ inherit: "none", set: { MY_TOKEN: "t" } }), env: {} }),
      awaitProcess("s3"),
    ],
  },
  {
    name: "envPolicy/params-errors",
    steps: [
      ...ready(),
      sh("e1", "true", { envPolicy: { inherit: "all" } }),
      sh("e2", "true", { envPolicy: policy({ inherit: "some" }) }),
      sh("e3", "true", { envPolicy: policy({ exclude: "X" }) }),
      sh("e4", "true", { envPolicy: policy({ set: { A: 1 } }) }),
      sh("e5", "true", { envPolicy: policy({ ignoreDefaultExcludes: null }) }),
      sh("e6", "true", { envPolicy: policy({ includeOnly: null }) }),
      sh("e7", "true", { envPolicy: {} }),
      req("process/read", { processId: "e1" }),
    ],
  },
];
