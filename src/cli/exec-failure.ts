/**
 * What `execbox exec` says and exits with when the command never ran: the
 * shell's 127/126 for a program that is missing or not executable, 125 when
 * the working directory (or anything else about the start) is refused, and
 * ssh's 255 only when the executor cannot be reached or is lost for good, so
 * a script can tell "the command failed" from "the command never ran" from
 * "the network failed".
 */
import { type ExecboxClient, ExecboxAuthError, ExecboxRpcError, ExecboxSpawnError, ExecboxUnsupportedError, type RemoteProcess } from "../client/index.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { displayPath, parsePathUri } from "../protocol/path-uri.ts";

/** Exit codes of `execbox exec` other than the remote command's own (the README's table). */
export const ExecExit = {
  /** `--timeout` ran out and the executor ended the command (GNU timeout's code). */
  timedOut: 124,
  /** The executor refused to start it: missing or non-directory cwd, a refused request, `--timeout` on an executor without timeouts (env's and docker's 125). */
  cannotStart: 125,
  /** The program exists but cannot be executed (the shell's code). */
  notExecutable: 126,
  /** No such program (the shell's code). */
  notFound: 127,
  /** The executor cannot be reached, refused the connection, or was lost for good (ssh's code). */
  transport: 255,
} as const;

/** The one-line report and the exit code for a failed `process/start`; anything else is rethrown. */
export async function startFailure(client: ExecboxClient, error: unknown, program: string, cwd: string): Promise<{ text: string; code: number }> {
  if (error instanceof ExecboxUnsupportedError) return { text: `cannot start ${program}: ${error.message}`, code: ExecExit.cannotStart };
  if (!(error instanceof ExecboxRpcError)) throw error;
  if (!(error instanceof ExecboxSpawnError)) return { text: `cannot start ${program}: ${error.message}`, code: ExecExit.cannotStart };
  // ENOENT and ENOTDIR name neither the program nor the cwd: ask which one it was.
  const badCwd = await cwdProblem(client, cwd);
  if (badCwd) return { text: `cannot change directory to ${displayPath(parsePathUri(cwd))}: ${badCwd}`, code: ExecExit.cannotStart };
  if (error.kind === "spawnNotFound") {
    // As bash words it: a name looked up in PATH is "command not found", a path "No such file or directory".
    return { text: `${program}: ${program.includes("/") ? "No such file or directory" : "command not found"}`, code: ExecExit.notFound };
  }
  if (error.kind === "spawnPermissionDenied") return { text: `${program}: Permission denied`, code: ExecExit.notExecutable };
  return { text: `cannot start ${program}: ${error.message}`, code: ExecExit.cannotStart };
}

/** Why `cwd` cannot be the working directory, or undefined if it looks fine (or cannot be checked). */
async function cwdProblem(client: ExecboxClient, cwd: string): Promise<string | undefined> {
  try {
    const meta = await client.call("fs/getMetadata", { path: cwd });
    return meta.isDirectory ? undefined : "Not a directory";
  } catch (e) {
    if (e instanceof ExecboxRpcError && e.code === ErrorCode.NotFound) return "No such file or directory";
    if (e instanceof ExecboxRpcError) return undefined;
    throw e;
  }
}

/** 124 (and a line saying so) when `--timeout` ended the command, else undefined: its own code stands. */
export function timedOutExit(proc: RemoteProcess, options: { timeoutMs?: number }): number | undefined {
  if (proc.timedOut === null) return undefined;
  process.stderr.write(`execbox: timed out after ${options.timeoutMs} ms; the command was ended (exit ${proc.exitCode})\n`);
  return ExecExit.timedOut;
}

/** The line for a refused upgrade: what the executor wants and the flag that gives it. */
export function authFailureText(error: ExecboxAuthError, tokenFile: string | undefined): string {
  if (error.status === 403) return `${error.url} refused the connection (403 Forbidden)`;
  if (tokenFile === undefined) return `${error.url} requires a token (401 Unauthorized); pass it with --token-file PATH`;
  return `${error.url} refused the token in ${tokenFile} (401 Unauthorized); pass the executor's token with --token-file PATH`;
}
