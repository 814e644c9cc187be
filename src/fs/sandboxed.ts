/**
 * The fs handlers' choice under `sandbox` intent: an operation runs here when
 * the policy leaves the file system unrestricted, else in the sandboxed fs
 * helper — a streaming open too: the helper opens the file inside the
 * sandbox and passes the descriptor back (SCM_RIGHTS), and the connection's
 * handle table keeps it. Everything sandboxing needs comes from the server
 * context, passed in.
 */
import type { SandboxContext } from "../protocol/messages/sandbox.ts";
import type { FsHelperMethod, ParamsOf, ResultOf } from "../protocol/methods.ts";
import { callFsHelper } from "../sandbox/fs-helper.ts";
import { type FsIntentScope, sandboxedFsView } from "../sandbox/intent.ts";
import type { SandboxHost } from "../sandbox/launch.ts";
import { type DiscoveredRoot, type SandboxedDiscovery, discoverRoot, rootError } from "../environment/capability-roots.ts";
import { ErrorCode, RpcError } from "../protocol/errors.ts";
import { fsOneShot } from "./api.ts";
import { blockFile, requireRegularFile } from "./block-file.ts";
import type { FileHandleTable } from "./handles.ts";
import { closeFd, receiveFd, socketPair } from "../platform/fd-passing.ts";
import { parsePathUri } from "../protocol/path-uri.ts";

export type FsSandboxScope = FsIntentScope & { host: SandboxHost };

export function runOneShot<M extends FsHelperMethod>(scope: FsSandboxScope, method: M, params: ParamsOf<M>): ResultOf<M> | Promise<ResultOf<M>> {
  // Every one-shot fs method carries optional sandbox intent (its params schema says so).
  const { sandbox, ...operation } = params as ParamsOf<M> & { sandbox?: SandboxContext | null };
  const view = sandboxedFsView(sandbox, scope);
  if (view === null) return fsOneShot[method](params as never) as ResultOf<M> | Promise<ResultOf<M>>;
  // The helper runs under `view` already: its request carries the operation alone.
  return callFsHelper(method, operation, view, scope) as Promise<ResultOf<M>>;
}

/**
 * fs/open under `sandbox`. Under a restricted policy the executor never
 * resolves the path: what it streams is the descriptor the helper opened in
 * the sandbox's view (a symlink swapped in, `..`, a link out of the readable
 * set all resolve there), checked to be a regular file.
 */
export function openSandboxed(scope: FsSandboxScope, files: FileHandleTable, params: ParamsOf<"fs/open">): Promise<{ handleId: string }> {
  const { sandbox, ...operation } = params;
  const view = sandboxedFsView(sandbox, scope);
  const path = parsePathUri(params.path);
  const mode = params.mode ?? "read";
  if (view === null) return files.open(params.handleId, path, mode);
  return files.adopt(params.handleId, mode, async () => {
    const [mine, helpers] = socketPair();
    try {
      await callFsHelper("fs/open", operation, view, scope, helpers).finally(() => closeFd(helpers));
      const fd = receiveFd(mine);
      await requireRegularFile(fd, path);
      return blockFile(fd);
    } finally {
      closeFd(mine);
    }
  });
}

/** Capability discovery under a root's sandbox (src/environment/capability-roots.ts): the whole root in one helper, as the reference. */
export function sandboxedDiscovery(scope: FsSandboxScope): SandboxedDiscovery {
  return {
    check: (sandbox) => void sandboxedFsView(sandbox, scope),
    discover: async (root, sandbox) => {
      const view = sandboxedFsView(sandbox, scope);
      if (view === null) return discoverRoot(root);
      try {
        const answer = (await callFsHelper("capabilityRoots/discoverV1", { roots: [root] }, view, scope)) as { roots: DiscoveredRoot[] };
        return answer.roots[0]!;
      } catch (e) {
        // A sandbox that cannot be enforced here fails the request (-32602); a helper that failed fails its root, as the reference's.
        if (e instanceof RpcError && e.code === ErrorCode.InvalidParams) throw e;
        return rootError(root, e);
      }
    },
  };
}
