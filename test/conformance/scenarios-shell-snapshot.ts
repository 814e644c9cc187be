/**
 * shellSnapshotV2 (capabilities.md): a login command with a `shellSnapshot`
 * scope runs the login profile once per scope and is restored from then on.
 * Each scenario's HOME is its own dir (set in the env overlay, no envPolicy),
 * so only the profile written here runs; scopes are named after the scenario.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Ctx, type Scenario, awaitProcess, ready, req } from "./types.ts";

const PROFILE = `echo run >> "$HOME/profile-runs"
echo PROFILE-NOISE
if [ -e "$HOME/fail" ]; then exit 3; fi
export PROFILE_VAR=from-profile
export MY_VAR=from-profile
greet() { echo "hello $1"; }
alias ll='echo ALIAS-LL'
shopt -s expand_aliases
set -o noclobber
`;

const home = (dir: string) => writeFileSync(join(dir, ".bash_profile"), PROFILE);
const failingHome = (dir: string) => {
  home(dir);
  writeFileSync(join(dir, "fail"), "");
};

const snapshot = (scopeId: string, name = "bash", path = "/bin/bash") => ({ scopeId, shell: { name, path } });

/** `/bin/bash -lc cmd` (or `argv`) with HOME at the scenario dir and a snapshot scope. */
function login(processId: string, cmd: string, scope: unknown, extra: { env?: Record<string, string>; tty?: boolean; argv?: string[] } = {}) {
  return req("process/start", (c: Ctx) => ({
    processId,
    argv: extra.argv ?? ["/bin/bash", "-lc", cmd],
    cwd: c.uri,
    env: { PATH: "/usr/bin:/bin", HOME: c.dir, ...extra.env },
    tty: extra.tty ?? false,
    shellSnapshot: scope,
  }));
}

const STATE = 'greet "$0"; ll; echo "PV=$PROFILE_VAR MY=$MY_VAR OV=$OV SHLVL=$SHLVL"; set -o | grep noclobber; wc -l <"$HOME/profile-runs"';
/** Also the shell's own argv (the restore prelude), its descriptor number masked: the reference takes the first free one from 16 up (16, 18, 25 seen). */
const SHOW = `${STATE}; tr "\\0" "|" </proc/$$/cmdline | sed "s|/dev/fd/[0-9]*|/dev/fd/N|"`;

export const shellSnapshotScenarios: Scenario[] = [
  {
    name: "shell-snapshot/restore-once-per-scope",
    setup: home,
    steps: [
      ...ready(),
      login("a", SHOW, snapshot("conf-restore"), { env: { OV: "overlay" } }),
      awaitProcess("a"),
      login("b", SHOW, snapshot("conf-restore"), { env: { OV: "overlay", MY_VAR: "overlay-wins" } }),
      awaitProcess("b"),
      login("c", SHOW, snapshot("conf-restore-2"), { env: { OV: "overlay" } }),
      awaitProcess("c"),
    ],
  },
  {
    name: "shell-snapshot/pty",
    setup: home,
    steps: [...ready(), login("t", STATE, snapshot("conf-pty"), { tty: true }), awaitProcess("t"), login("t2", STATE, snapshot("conf-pty"), { tty: true }), awaitProcess("t2")],
  },
  {
    name: "shell-snapshot/capture-fails",
    setup: failingHome,
    steps: [...ready(), login("f", SHOW, snapshot("conf-fail")), awaitProcess("f")],
  },
  {
    name: "shell-snapshot/not-login-commands",
    setup: home,
    steps: [
      ...ready(),
      login("c", "echo $SHLVL", snapshot("conf-not-login"), { argv: ["/bin/bash", "-c", "echo $SHLVL"] }),
      awaitProcess("c"),
      login("n", "", snapshot("conf-not-login"), { argv: ["bash", "-lc", "echo $SHLVL"] }),
      awaitProcess("n"),
      login("l", "", snapshot("conf-not-login"), { argv: ["/bin/bash", "-l", "-c", "echo $SHLVL"] }),
      awaitProcess("l"),
      login("p", "echo $SHLVL", snapshot("conf-not-login", "bash", "/usr/bin/bash")),
      awaitProcess("p"),
      login("e", "", snapshot("conf-not-login", "fish"), { argv: ["echo", "fine"] }),
      awaitProcess("e"),
    ],
  },
  {
    name: "shell-snapshot/refusals",
    steps: [
      ...ready(),
      login("r1", "true", snapshot("")),
      login("r2", "true", snapshot("x".repeat(257))),
      login("r3", "true", snapshot("é".repeat(129))),
      login("r4", "true", snapshot("conf-refusals", "fish")),
      login("r5", "true", snapshot("conf-refusals", "Bash")),
      login("r6", "true", snapshot("", "fish"), { argv: ["echo"] }),
      req("process/start", (c: Ctx) => ({ processId: "r7", argv: [], cwd: c.uri, env: {}, tty: false, shellSnapshot: snapshot("") })),
    ],
  },
];
