/** Limits and timers, with the reference's values where it has one. */

/** Largest incoming WebSocket message; bigger ones drop the connection (reference: 16 MiB). */
export const MAX_INCOMING_MESSAGE_BYTES = 16 * 1024 * 1024;
/**
 * Output retained per process for `process/read` (reference: ~1 MiB, oldest
 * evicted). execbox keeps 4 MiB: enough to hold whatever may have been in
 * flight (the flow's queue, socket buffers) when a connection drops, so a client that
 * resumes and reads from its last seq loses nothing.
 */
export const RETAINED_OUTPUT_BYTES_PER_PROCESS = 16 * 1024 * 1024;
/**
 * Largest `process/output` chunk. The reference sends ≤ 8 KiB; execbox sends
 * up to 64 KiB so bulk output costs an eighth of the frames. Clients must not
 * depend on chunk boundaries either way.
 */
export const MAX_OUTPUT_CHUNK_BYTES = 64 * 1024;
/** A closed process stays readable (id reserved) this long (reference: ≈ 80 s). */
export const EXITED_PROCESS_RETENTION_MS = 80_000;
/** A detached session waits this long to be resumed (reference: ≈ 80 s). */
export const DETACHED_SESSION_TTL_MS = 80_000;
/** Default requests processed at once per connection (reference default: 1, strictly ordered). */
export const DEFAULT_CONCURRENT_REQUESTS = 1;
/** On shutdown, how long to wait for killed processes to close before exiting anyway. */
export const SHUTDOWN_GRACE_MS = 2_000;
/**
 * WebSocket keepalive: a connection that sends nothing this long (not even a
 * pong to our pings) is dropped and its session detached. Long enough that a
 * client stalled for 30 s (not reading, so not answering pings) keeps its
 * connection (measured: a 30 s idle timeout dropped it at ~32 s); short
 * enough that a dead peer's session becomes resumable well inside the 80 s
 * detach window and the client's 75 s recovery deadline.
 */
export const WS_IDLE_TIMEOUT_SECONDS = 60;
/**
 * Established WebSocket connections at once; one more is answered 503 before
 * the upgrade (after authentication). Each holds a socket, buffers and up to
 * 128 file handles; an orchestrator needs a handful, so this only stops a
 * client that opens connections without end (those still in the HTTP phase
 * are bounded in src/transport/upgrade-gate.ts).
 */
export const MAX_WS_CONNECTIONS = 128;
/**
 * Processes one session may have running (not yet closed) at once; one more
 * is refused with -32600. Each holds pipes and a retained-output window; an
 * agent runs a few at a time, so 64 only stops a runaway or hostile client.
 */
export const MAX_RUNNING_PROCESSES_PER_SESSION = 64;
/**
 * Closed processes one session keeps readable (for the exited-process
 * retention); past this the oldest is forgotten early, so a client starting
 * `/bin/true` in a loop does not grow the table for 80 s at a time.
 */
export const MAX_EXITED_PROCESSES_PER_SESSION = 1024;
/**
 * Output bytes one session's processes may retain: each running process
 * counts its whole window (`--retained-output-bytes`, it may fill it), each
 * closed one what it holds. A start that would pass this first forgets the
 * oldest closed processes, else is refused with -32600. 1 GiB: 64 running
 * processes at the default 16 MiB window, spilled to disk past 1 MiB each.
 */
export const MAX_RETAINED_OUTPUT_BYTES_PER_SESSION = 1024 * 1024 * 1024;
/** Processes running at once in the whole executor (`--max-processes`), bounding its descriptors (≥ 3 each). */
export const DEFAULT_MAX_PROCESSES = 512;
/**
 * Sessions held at once, attached or detached (`--max-sessions`); a new one
 * is refused with -32600 (a resume is not a new session). Bounds what
 * clients that connect, start processes and vanish can leave behind for the
 * detach window.
 */
export const DEFAULT_MAX_SESSIONS = 128;
/**
 * Incoming messages at least this large are admitted against
 * `INCOMING_LARGE_BYTES_IN_FLIGHT` and count towards reclaiming memory. Below
 * it a message costs little, and the per-connection inbox limits bound it.
 */
export const LARGE_INCOMING_MESSAGE_BYTES = 1024 * 1024;
/**
 * How long a large message's handler keeps its share of the room once it
 * has started. Handlers of large messages finish in tens of milliseconds (a
 * 15 MiB fs/writeFile: ~20 ms), and holding the room until the answer keeps
 * their copies inside the bound too; one still running after this waits on
 * something outside (a child that does not read its stdin, a FIFO, a slow
 * server), and held until its answer it would starve every other
 * connection's large messages for as long as that lasts.
 */
export const LARGE_MESSAGE_ROOM_AFTER_START_MS = 100;
/**
 * Large incoming messages being received or handled (a handler for at most
 * LARGE_MESSAGE_ROOM_AFTER_START_MS), all connections together (a fragmented one counts as the largest message, its size unknown
 * until its last frame); each connection has at most one at a time. Each costs
 * a few times its size while handled (text, parsed strings, decoded bytes), so
 * this bounds the executor's peak under many clients sending 16 MiB messages;
 * two maximal messages at a time keep big uploads moving. A message that does
 * not fit waits, its connection not read, until one is done.
 */
export const INCOMING_LARGE_BYTES_IN_FLIGHT = 32 * 1024 * 1024;
/**
 * Large messages handled since the last full garbage collection that trigger
 * the next one. JSC collects when more is allocated, so their garbage (a few
 * times their size) would otherwise pile up, and stay once the executor goes
 * quiet (measured: ~90 MiB for over 10 s after 170 MiB of 4–15 MiB messages).
 * A collection takes ~4–10 ms, so at most one per 16 MiB costs ~1 %.
 */
export const RECLAIM_AFTER_BYTES = 16 * 1024 * 1024;
/** After a large message is handled, the collection runs this soon even if no more arrive. */
export const RECLAIM_DELAY_MS = 250;
/**
 * JSON values in one incoming message (counted by `[`, `{` and `,` outside
 * strings) before it is parsed. `JSON.parse` spends tens of bytes per value,
 * so a 16 MiB message of tiny values cost ~200 MiB; real messages carry a few
 * hundred (a huge argv or env a few thousand). More is answered like
 * unparseable JSON (-32600, id -1); the reference would parse it.
 */
export const MAX_INCOMING_JSON_VALUES = 262_144;
/**
 * Outgoing byte frames (process output, file reads) sent between full
 * garbage collections. Each leaves a read buffer and, for a slow client,
 * copies; JSC let that grow the peak of a client draining 1 GiB after a stall
 * 4–6 MiB past the reference's. One collection (~4 ms) per 64 MiB costs ~2 %
 * of a 400 MiB/s stream.
 */
export const RECLAIM_AFTER_SENT_BYTES = 64 * 1024 * 1024;
/**
 * Shell snapshots kept at once (`shellSnapshotV2`), executor-wide; a scope is
 * one Codex thread, so this covers many threads at once. Past it the least
 * recently used is dropped and its next login command captures afresh.
 */
export const SHELL_SNAPSHOT_MAX_ENTRIES = 64;
/**
 * Bytes of snapshots (restore scripts and environments) kept at once. A
 * profile that loads bash-completion declares ~200 KiB of functions; 32 MiB
 * holds the 64 entries at twice that with room to spare.
 */
export const SHELL_SNAPSHOT_MAX_TOTAL_BYTES = 32 * 1024 * 1024;
/** A snapshot is captured afresh after this long, so a changed profile is seen without a new thread. */
export const SHELL_SNAPSHOT_MAX_AGE_MS = 30 * 60_000;
/**
 * After a failed capture the scope's login commands run as sent (the profile
 * runs in each, as without snapshots) this long before one captures again:
 * a broken profile costs one capture a minute, not one per command, and a
 * fixed one is picked up (the reference remembers the failure for good).
 */
export const SHELL_SNAPSHOT_RETRY_AFTER_FAILURE_MS = 60_000;
/** Largest capture output; past it the capture is killed and counts as failed (`shell snapshot capture exceeds N bytes`). */
export const SHELL_SNAPSHOT_CAPTURE_MAX_BYTES = 4 * 1024 * 1024;
/** A profile that has not finished by then (waits for input, hangs on the network) is killed; the command runs as sent. */
export const SHELL_SNAPSHOT_CAPTURE_TIMEOUT_MS = 10_000;
/** After the capture exits, how long its stdout may stay open (a daemon the profile started holds it) before it is read as is. */
export const SHELL_SNAPSHOT_CAPTURE_EXIT_GRACE_MS = 200;
/**
 * Server→client requests (`network/policyRequest`) waiting for an answer at
 * once on one connection (reference: 256). One more is not sent: the proxy
 * treats it as a refusal (fail closed), so a child opening connections
 * without end cannot grow the executor's memory or flood the client.
 */
export const MAX_PENDING_CLIENT_REQUESTS = 256;
