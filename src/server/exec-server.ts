/**
 * Assembles the transport-independent server: the session registry and the
 * context every connection shares. Transports create `Connection`s from it.
 */
import { ShellSnapshots } from "../process/shell-snapshot.ts";
import type { SandboxBackend } from "../sandbox/backend.ts";
import { type Clock, systemClock } from "./clock.ts";
import { Connection, type ConnectionOptions } from "./connection.ts";
import { IncomingBudget, Reclaimer } from "./incoming-memory.ts";
import {
  DEFAULT_CONCURRENT_REQUESTS,
  DEFAULT_MAX_PROCESSES,
  DEFAULT_MAX_SESSIONS,
  MAX_EXITED_PROCESSES_PER_SESSION,
  MAX_RUNNING_PROCESSES_PER_SESSION,
  MAX_RETAINED_OUTPUT_BYTES_PER_SESSION,
  DETACHED_SESSION_TTL_MS,
  EXITED_PROCESS_RETENTION_MS,
  INCOMING_LARGE_BYTES_IN_FLIGHT,
  MAX_OUTPUT_CHUNK_BYTES,
  RETAINED_OUTPUT_BYTES_PER_PROCESS,
  SHELL_SNAPSHOT_CAPTURE_EXIT_GRACE_MS,
  SHELL_SNAPSHOT_CAPTURE_MAX_BYTES,
  SHELL_SNAPSHOT_CAPTURE_TIMEOUT_MS,
  SHELL_SNAPSHOT_MAX_AGE_MS,
  SHELL_SNAPSHOT_MAX_ENTRIES,
  SHELL_SNAPSHOT_MAX_TOTAL_BYTES,
  SHELL_SNAPSHOT_RETRY_AFTER_FAILURE_MS,
} from "./limits.ts";
import type { ConnectionTransport } from "./flow.ts";
import { type ServerContext, sandboxHost } from "./server-context.ts";
import { metrics } from "./metrics.ts";
import { SessionRegistry } from "./session.ts";

export type ExecServerOptions = {
  concurrentRequests?: number;
  detachedSessionTtlMs?: number;
  exitedRetentionMs?: number;
  retainedOutputBytes?: number;
  /** Processes running at once in the executor (`--max-processes`). */
  maxProcesses?: number;
  /** Sessions held at once, attached or detached (`--max-sessions`). */
  maxSessions?: number;
  /** How Linux sandbox intent is enforced (default: auto). */
  sandboxBackend?: SandboxBackend;
  /** Files the executor holds secrets in, hidden from every sandbox (canonical paths). */
  secretPaths?: string[];
  env?: Record<string, string | undefined>;
  cwd?: string;
  clock?: Clock;
};

export class ExecServer {
  readonly context: ServerContext;

  constructor(options: ExecServerOptions = {}) {
    const env = options.env ?? process.env;
    const clock = options.clock ?? systemClock;
    const sandboxBackend = options.sandboxBackend ?? "auto";
    const secretPaths = options.secretPaths ?? [];
    const sessions = new SessionRegistry({
      detachedSessionTtlMs: options.detachedSessionTtlMs ?? DETACHED_SESSION_TTL_MS,
      maxSessions: options.maxSessions ?? DEFAULT_MAX_SESSIONS,
      clock,
      process: {
        retainedOutputBytes: options.retainedOutputBytes ?? RETAINED_OUTPUT_BYTES_PER_PROCESS,
        sandbox: sandboxHost({ sandboxBackend, env, secretPaths }),
        maxChunkBytes: MAX_OUTPUT_CHUNK_BYTES,
        exitedRetentionMs: options.exitedRetentionMs ?? EXITED_PROCESS_RETENTION_MS,
        clock,
        ownEnv: env,
        snapshots: new ShellSnapshots(
          {
            maxEntries: SHELL_SNAPSHOT_MAX_ENTRIES,
            maxTotalBytes: SHELL_SNAPSHOT_MAX_TOTAL_BYTES,
            maxAgeMs: SHELL_SNAPSHOT_MAX_AGE_MS,
            retryAfterFailureMs: SHELL_SNAPSHOT_RETRY_AFTER_FAILURE_MS,
            capture: { maxBytes: SHELL_SNAPSHOT_CAPTURE_MAX_BYTES, timeoutMs: SHELL_SNAPSHOT_CAPTURE_TIMEOUT_MS, exitGraceMs: SHELL_SNAPSHOT_CAPTURE_EXIT_GRACE_MS },
          },
          () => clock.now(),
        ),
        caps: {
          runningPerSession: MAX_RUNNING_PROCESSES_PER_SESSION,
          exitedPerSession: MAX_EXITED_PROCESSES_PER_SESSION,
          retainedBytesPerSession: MAX_RETAINED_OUTPUT_BYTES_PER_SESSION,
          executor: { running: 0, max: options.maxProcesses ?? DEFAULT_MAX_PROCESSES },
        },
      },
    });
    metrics.watchSessions(() => sessions.counts());
    this.context = {
      sessions,
      env,
      cwd: options.cwd ?? process.cwd(),
      concurrentRequests: options.concurrentRequests ?? DEFAULT_CONCURRENT_REQUESTS,
      sandboxBackend,
      secretPaths,
      incoming: new IncomingBudget(INCOMING_LARGE_BYTES_IN_FLIGHT, new Reclaimer()),
    };
  }

  connect(transport: ConnectionTransport, options: ConnectionOptions): Connection {
    return new Connection(transport, this.context, options);
  }

  /** Kills every session's processes. */
  shutdown(): Promise<void> {
    return this.context.sessions.shutdown();
  }
}
