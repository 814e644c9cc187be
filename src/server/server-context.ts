import type { SandboxBackend } from "../sandbox/backend.ts";
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
  /** Room for large incoming messages, shared by all connections. */
  incoming: IncomingBudget;
};
