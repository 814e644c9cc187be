/**
 * Finding the program for a bare `argv[0]` (no slash), exactly as the
 * reference does — which differs between its two spawn paths, and both use
 * the *child's* environment, never the executor's:
 *
 * - **pipes** (Rust's `Command`, which clears the environment and so execs
 *   with musl's `execvp` in the child, after `chdir`): the child's `PATH`,
 *   or musl's default when it has none; each entry used verbatim (`entry/name`,
 *   an empty entry meaning the cwd, relative entries relative to the cwd);
 *   a candidate that exists but cannot be executed is skipped and, if nothing
 *   else is found, reported as `Permission denied`.
 * - **PTY** (portable-pty's own search): the child's `PATH` is required;
 *   entries are joined onto the cwd as paths; the error names every
 *   non-executable candidate and the `PATH` searched.
 */
import { accessSync, constants, statSync } from "node:fs";
import { joinPath } from "../fs/rust-path.ts";
import { internalError, osErrorText } from "../protocol/errors.ts";

/** musl's `execvp` default when the environment has no `PATH` (the reference is a musl build: `env: {}` still finds `/bin/sh`). */
export const DEFAULT_EXEC_PATH = "/usr/local/bin:/bin:/usr/bin";

type Candidate = "runs" | "not-executable" | "absent";

function candidate(path: string): Candidate {
  let st;
  try {
    st = statSync(path);
  } catch {
    return "absent";
  }
  if (!st.isFile()) return st.isDirectory() ? "not-executable" : "absent";
  try {
    accessSync(path, constants.X_OK);
    return "runs";
  } catch {
    return "not-executable";
  }
}

/**
 * The path to exec for `name` in a pipe child. Relative results stay
 * relative (the child resolves them after `chdir`, as `execvp` does), with
 * `./` in front where needed so nothing searches PATH again.
 */
export function lookupForPipe(name: string, cwd: string, childPath: string | undefined): string {
  if (name.includes("/")) return name;
  let denied = false;
  for (const entry of (childPath ?? DEFAULT_EXEC_PATH).split(":")) {
    const path = entry === "" ? name : `${entry}/${name}`;
    const found = candidate(path.startsWith("/") ? path : `${cwd}/${path}`);
    if (found === "runs") return path.includes("/") ? path : `./${path}`;
    if (found === "not-executable") denied = true;
  }
  throw internalError(osErrorText({ code: denied ? "EACCES" : "ENOENT" }));
}

/**
 * The path to exec for `name` in a PTY child, or portable-pty's error.
 * portable-pty treats only an absolute name as a path; `./x` and `../x` are
 * looked up under the cwd alone, and any other relative name (`sub/x`, even
 * `file:///bin/sh`) is searched for along PATH like a bare name.
 */
export function lookupForPty(name: string, cwd: string, childPath: string | undefined): string {
  if (name.startsWith("/")) return name;
  if (/^\.\.?(\/|$)/.test(name)) return cwdRelative(joinPath(cwd, name));
  if (childPath === undefined) throw internalError(`Unable to spawn ${name} because:\nUnable to resolve the PATH`);
  const problems: string[] = [];
  for (const entry of childPath.split(":")) {
    const path = joinPath(joinPath(cwd, entry), name);
    const found = candidate(path);
    if (found === "runs") return path;
    if (found === "not-executable") problems.push(`${path} exists but is not executable.`);
  }
  problems.push(`No viable candidates found in PATH ${JSON.stringify(childPath)}`);
  throw internalError(`Unable to spawn ${name} because:\n${problems.join("\n")}`);
}

/** portable-pty's check of a `./`- or `../`-relative program, joined onto the cwd. */
function cwdRelative(path: string): string {
  const why = statSync(path, { throwIfNoEntry: false })?.isDirectory() ? "is a directory" : candidateReason(path);
  if (why === null) return path;
  throw internalError(`Unable to spawn ${path} because it ${why}`);
}

function candidateReason(path: string): string | null {
  const found = candidate(path);
  return found === "runs" ? null : found === "absent" ? "does not exist" : "is not executable";
}
