import { environmentInfo } from "../environment/info.ts";
import type { FsSandboxScope } from "../fs/sandboxed.ts";
import { fsSandboxEnforceable } from "../sandbox/intent.ts";
import { type SandboxBackend, enforcesRootWrite } from "../sandbox/backend.ts";
import type { EnvironmentInfo } from "../protocol/messages/environment.ts";
import type { SandboxHost } from "../sandbox/launch.ts";
import type { IncomingBudget } from "./incoming-memory.ts";
import type { SessionRegistry } from "./session.ts";

/** Everything request handling needs from the running server, injected. */
export type ServerContext = {
  sessions: SessionRegistry;
  /** The executor's own environment and working directory. */
  env: Record<string, string | undefined>;
  cwd: string;
  /** Requests processed at once per connection (`--concurrent-requests`). */
  concurrentRequests: number;
  /** How Linux sandbox intent is enforced (`--sandbox-backend`). */
  sandboxBackend: SandboxBackend;
  /** Files the executor holds secrets in (`--ws-token-file`, `--ws-shared-secret-file`), canonical: no sandbox may read them. */
  secretPaths: string[];
  /** Room for large incoming messages, shared by all connections. */
  incoming: IncomingBudget;
};

/** What sandboxing takes from the server context: the backend, the executor's PATH, the secrets to hide. */
export function sandboxHost(server: Pick<ServerContext, "sandboxBackend" | "env" | "secretPaths">): SandboxHost {
  return { backend: server.sandboxBackend, searchPath: server.env.PATH, secretPaths: server.secretPaths };
}

/**
 * `environment/info` (and `initialize`'s copy) for this server: its
 * environment and cwd, and the capabilities its sandbox backend decides on
 * this host (sandboxed fs helper, root-write views).
 */
export function serverEnvironmentInfo(server: ServerContext): EnvironmentInfo {
  return environmentInfo(server.env, server.cwd, {
    fsSandbox: fsSandboxEnforceable(sandboxHost(server)),
    rootWrite: enforcesRootWrite(server.sandboxBackend, server.env.PATH),
  });
}

/** What a sandboxed fs request needs from the server context. */
export function fsSandboxScope(server: ServerContext): FsSandboxScope {
  return { cwd: server.cwd, env: server.env, host: sandboxHost(server) };
}
