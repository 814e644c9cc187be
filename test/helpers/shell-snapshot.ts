/**
 * For the shellSnapshotV2 suites: a temp HOME whose login profile counts its
 * runs, exports variables and defines a function and an alias, and a way to
 * run a login command with a `shellSnapshot` scope to its close.
 */
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { RawClient } from "./rpc-client.ts";
import { tempDir } from "./server.ts";

/** The profile: counts runs, prints noise, fails (exit 3) while `$HOME/fail` exists, sleeps `$HOME/sleep` seconds. */
const BASH_PROFILE = `echo run >> "$HOME/profile-runs"
echo PROFILE-NOISE
if [ -e "$HOME/fail" ]; then exit 3; fi
if [ -e "$HOME/sleep" ]; then sleep "$(cat "$HOME/sleep")"; fi
export PROFILE_VAR=from-profile
export MY_VAR=from-profile
export PROFILE_TOKEN=token-from-profile
[ -f "$HOME/.bashrc" ] && . "$HOME/.bashrc"
`;
const BASHRC = `greet() { echo "hello $1"; }
alias ll='echo ALIAS-LL'
shopt -s expand_aliases
set -o noclobber
`;

export type SnapshotHome = ReturnType<typeof tempDir> & { runs(): number; set(name: "fail" | "sleep", value: string | null): void };

export function snapshotHome(): SnapshotHome {
  const dir = tempDir("execbox-snapshot-home-");
  writeFileSync(join(dir.path, ".bash_profile"), BASH_PROFILE);
  writeFileSync(join(dir.path, ".bashrc"), BASHRC);
  return Object.assign(dir, {
    runs: () => {
      try {
        return readFileSync(join(dir.path, "profile-runs"), "utf8").split("\n").filter(Boolean).length;
      } catch {
        return 0;
      }
    },
    set: (name: "fail" | "sleep", value: string | null) => {
      const path = join(dir.path, name);
      if (value === null) rmSync(path, { force: true });
      else writeFileSync(path, value);
    },
  });
}

/** The executor's own environment in these suites: the secret is what envPolicy must keep out. */
export const snapshotServerEnv = (home: string) => ({ PATH: "/usr/local/bin:/usr/bin:/bin", HOME: home, USER: "root", LOGNAME: "root", SHELL: "/bin/bash", GITHUB_TOKEN: "ghp_executor_secret", MY_VAR: "from-executor" });

export const POLICY = { inherit: "all", ignoreDefaultExcludes: false, exclude: [] as string[], set: {}, includeOnly: [] as string[] };

export type LoginRun = { start: any; exitCode?: number; stdout: string; stderr: string; pty: string };

let n = 0;
/** `/bin/bash -lc cmd` with a snapshot scope (null: none), in `cwd`, to its close. */
export async function runLogin(c: RawClient, cwdUri: string, cmd: string, opts: { scope?: string | null; env?: Record<string, string>; envPolicy?: object | null; tty?: boolean; sandbox?: object | null; argv?: string[]; shell?: { name: string; path: string } } = {}): Promise<LoginRun> {
  const processId = `login-${n++}`;
  const scope = opts.scope === undefined ? "thread-1:remote" : opts.scope;
  const start = await c.call("process/start", {
    processId,
    argv: opts.argv ?? ["/bin/bash", "-lc", cmd],
    cwd: cwdUri,
    env: opts.env ?? {},
    tty: opts.tty ?? false,
    envPolicy: opts.envPolicy === undefined ? POLICY : opts.envPolicy,
    sandbox: opts.sandbox ?? null,
    shellSnapshot: scope === null ? null : { scopeId: scope, shell: opts.shell ?? { name: "bash", path: "/bin/bash" } },
  }, 30_000);
  if (start.error) return { start: start.error, stdout: "", stderr: "", pty: "" };
  const events = await c.processDone(processId, 30_000);
  return {
    start: start.result,
    exitCode: events.find((e) => e.method === "process/exited")?.params.exitCode,
    stdout: c.output(processId, "stdout").toString(),
    stderr: c.output(processId, "stderr").toString(),
    pty: c.output(processId, "pty").toString(),
  };
}

/** Read everything, write the workspace `uri` (also the cwd), the network as given. */
export function workspaceSandbox(uri: string, network: "restricted" | "enabled") {
  const special = (kind: string) => ({ type: "special", value: { kind } });
  return {
    permissions: { type: "managed", file_system: { type: "restricted", entries: [{ path: special("root"), access: "read" }, { path: special("project_roots"), access: "write" }] }, network },
    cwd: uri,
    workspaceRoots: [uri],
    windowsSandboxLevel: "disabled",
  };
}
