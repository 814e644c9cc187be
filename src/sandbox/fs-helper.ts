/**
 * The fs helper: `fs/*` under a restricted file-system policy runs in
 * execbox's own executable, started in helper mode under the same bwrap view
 * a command would get (network always cut, cwd `/`, only PATH and the temp
 * variables in its environment). One request on stdin, one response line on
 * stdout, exit 0 even when the operation fails — the reference's protocol:
 *
 *   → {"operation":"fs/readFile","params":{…}}
 *   ← {"status":"ok","payload":{"operation":"fs/readFile","response":{…}}}
 *   ← {"status":"error","payload":{"code":-32004,"message":"…"}}
 */
import { closeSync, openSync, writeSync } from "node:fs";
import type { z } from "zod";
import { fsOneShot } from "../fs/api.ts";
import { ErrorCode, RpcError, internalError } from "../protocol/errors.ts";
import { type FsHelperMethod, type MethodName, Methods, type ParamsOf, isFsHelperMethod } from "../protocol/methods.ts";
import { parsePathUri } from "../protocol/path-uri.ts";
import { openBlockFd } from "../fs/block-file.ts";
import { fsCall } from "../fs/files.ts";
import { sendFd } from "../platform/fd-passing.ts";
import { type RootRequest, discoverRoot } from "../environment/capability-roots.ts";
import { serdeMessage } from "../protocol/serde.ts";
import { selfCommand } from "./self-command.ts";
import { FS_HELPER_FLAG } from "./internal-flags.ts";
import type { FsIntentScope } from "./intent.ts";
import { type SandboxHost, wrapEnforced } from "./launch.ts";
import { type FsView, MINIMAL_LINUX_ROOTS, withReadable } from "./policy.ts";

/** Environment the helper keeps from the executor's (the reference's allow-list). */
const HELPER_ENV = ["PATH", "TMPDIR", "TMP", "TEMP"];
/** A helper that has not answered by then is killed (walks and copies of big trees fit well within). */
export const FS_HELPER_TIMEOUT_MS = 120_000;
/** Stderr kept for the error text when the helper fails. */
const MAX_HELPER_STDERR = 4096;

/** A helper request; `descriptorSocket` (execbox's own field) is where fs/open sends the descriptor it opened. */
type HelperRequest = { operation?: unknown; params?: unknown; descriptorSocket?: unknown };

/**
 * Operations beyond the one-shot fs methods, as the reference's helper has:
 * capability discovery of roots (already checked by the server, no
 * sandbox), and fs/open, whose descriptor goes back over a socket.
 */
const EXTRA_OPERATIONS: Record<string, (params: unknown, request: HelperRequest) => Promise<unknown>> = {
  "capabilityRoots/discoverV1": async (params) => ({ roots: await Promise.all((params as { roots: RootRequest[] }).roots.map(discoverRoot)) }),
  "fs/open": async (params, request) => {
    const p = parseParams("fs/open", params);
    const fd = await fsCall(() => openBlockFd(parsePathUri(p.path), p.mode ?? "read"));
    try {
      sendFd(Number(request.descriptorSocket), fd);
    } finally {
      closeSync(fd);
    }
    return { handleId: p.handleId };
  },
};

/** Helper side: answers one request text with one response line. */
export async function answerHelperRequest(text: string): Promise<string> {
  const request = JSON.parse(text) as HelperRequest;
  const operation = String(request.operation);
  // The operations are the method table's one-shot fs methods (streaming ones are not among them) and the extra ones.
  const extra = Object.hasOwn(EXTRA_OPERATIONS, operation) ? EXTRA_OPERATIONS[operation]! : null;
  if (!extra && !isFsHelperMethod(operation)) throw new Error(`unknown fs helper operation \`${operation}\``);
  try {
    const response = extra ? await extra(request.params, request) : await runOneShotHere(operation as FsHelperMethod, request.params);
    return `${JSON.stringify({ status: "ok", payload: { operation, response } })}\n`;
  } catch (e) {
    const error = e instanceof RpcError ? e : internalError(String((e as Error)?.message ?? e));
    return `${JSON.stringify({ status: "error", payload: { code: error.code, message: error.message } })}\n`;
  }
}

async function runOneShotHere(operation: FsHelperMethod, params: unknown): Promise<unknown> {
  return fsOneShot[operation](parseParams(operation, params) as never);
}

/** A sandbox in the params is the one this helper already runs under; the operation itself ignores it. */
function parseParams<M extends MethodName>(operation: M, params: unknown): ParamsOf<M> {
  const parsed = (Methods[operation].params as z.ZodType).safeParse(params);
  if (!parsed.success) throw new RpcError(ErrorCode.InvalidParams, serdeMessage(parsed.error));
  return parsed.data as ParamsOf<M>;
}

/** Helper mode's main: stdin to EOF, one answer, exit 0 (1 only for a request it cannot read). */
export async function runFsHelper(): Promise<number> {
  try {
    // write(2) straight to fd 1: under the seccomp filter a runtime's own socket calls on stdio could be refused.
    writeSync(1, await answerHelperRequest(await Bun.stdin.text()));
    return 0;
  } catch (e) {
    process.stderr.write(`fs sandbox helper failed: ${(e as Error).message}\n`);
    return 1;
  }
}

/**
 * Server side: runs one fs operation (its decoded params) through the helper
 * under `view`, launched like any sandboxed command (launch.ts), with only
 * HELPER_ENV from the executor's environment. `descriptorSocket`: a socket
 * the helper gets as one more descriptor, for fs/open to send its file over.
 */
export async function callFsHelper(
  operation: string,
  params: unknown,
  view: FsView,
  scope: FsIntentScope & { host: SandboxHost },
  descriptorSocket?: number,
): Promise<unknown> {
  const self = selfCommand();
  // The helper must be able to run: its executable (and, without full read, the runtime) stay readable.
  const helperView = withReadable(view, [...MINIMAL_LINUX_ROOTS, ...self.readable]);
  const launch = wrapEnforced({ kind: "enforce", view: helperView, network: "restricted" }, { cwd: "/", tty: false }, scope.host);
  const env: Record<string, string> = {};
  for (const k of HELPER_ENV) if (scope.env[k] !== undefined) env[k] = scope.env[k]!;
  const release = launch.release ?? (() => {});
  let proc: Bun.Subprocess<"pipe", "pipe", "pipe">;
  const fds: number[] = [];
  try {
    // A fresh open per spawn: the wrapper reads from offset 0.
    for (const path of launch.fdFiles ?? []) fds.push(openSync(path, "r"));
    const extra = descriptorSocket === undefined ? [] : [descriptorSocket];
    const stdio = ["pipe", "pipe", "pipe", ...fds, ...extra] as ["pipe", "pipe", "pipe"];
    proc = Bun.spawn([...(launch.wrapper ?? []), ...self.argv, FS_HELPER_FLAG], { cwd: "/", env, stdio, timeout: FS_HELPER_TIMEOUT_MS });
  } catch (e) {
    release();
    throw e;
  } finally {
    for (const fd of fds) closeSync(fd);
  }
  // The socket is the helper's descriptor after the wrapper's own (3, 4, … in the order given).
  const request = descriptorSocket === undefined ? { operation, params } : { operation, params, descriptorSocket: 3 + fds.length };
  proc.stdin.write(JSON.stringify(request));
  await proc.stdin.end();
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]).finally(release);
  const line = out.slice(0, out.indexOf("\n") + 1 || undefined);
  if (code !== 0 || line === "") {
    throw internalError(`fs sandbox helper failed with status exit status: ${code}: ${err.slice(0, MAX_HELPER_STDERR).trim()}`);
  }
  const answer = JSON.parse(line) as { status: string; payload: { response?: unknown; code?: number; message?: string } };
  if (answer.status === "ok") return answer.payload.response;
  throw new RpcError(answer.payload.code ?? ErrorCode.Internal, answer.payload.message ?? "fs sandbox helper failed");
}
