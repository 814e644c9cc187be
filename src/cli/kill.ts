/**
 * `execbox kill --url … --session SID [--signal NAME] ID`: resumes a
 * detached session (one whose client went away, within the detach window)
 * and signals one of its processes' group. With the executor's `signals`
 * extension any POSIX name is sent as given; without it (the reference)
 * INT goes as `interrupt` and KILL as `process/terminate` (SIGKILL to the
 * group, the same thing), and any other name is refused with a clear line.
 */
import { type ExecboxClient, ExecboxConnectionError, ExecboxUnsupportedError, type SignalValue } from "../client/index.ts";
import type { KillOptions } from "./client-args.ts";
import { CONNECTION_FAILURE_EXIT, connectOrReport, message, say } from "./exec.ts";

/** Exit code when nothing was signalled: an unknown or exited process, or a signal the executor cannot send (kill(1)'s 1). */
export const KILL_FAILED_EXIT = 1;

/** A seq past any process's, so the state read returns no output. */
const NO_OUTPUT_AFTER = Number.MAX_SAFE_INTEGER;

export async function runKill(options: KillOptions): Promise<number> {
  const client = await connectOrReport(options, "execbox-kill", { resumeSessionId: options.session });
  if (typeof client === "number") return client;
  try {
    // process/signal ignores an unknown id (as the reference does); a user asking to kill one must hear of it.
    const state = await client.call("process/read", { processId: options.processId, afterSeq: NO_OUTPUT_AFTER });
    if (state.exited) {
      say(`process ${options.processId} has already exited (exit code ${state.exitCode})`);
      return KILL_FAILED_EXIT;
    }
    await send(client, options.processId, options.signal);
    return 0;
  } catch (e) {
    say(e instanceof ExecboxUnsupportedError ? `${e.message}; only INT and KILL can be sent to it` : message(e));
    return e instanceof ExecboxConnectionError ? CONNECTION_FAILURE_EXIT : KILL_FAILED_EXIT;
  } finally {
    await client.close();
  }
}

async function send(client: ExecboxClient, processId: string, signal: SignalValue): Promise<void> {
  if (client.supports("signals")) {
    await client.call("process/signal", { processId, signal });
    return;
  }
  if (signal === "interrupt" || signal === "INT" || signal === "SIGINT") {
    await client.call("process/signal", { processId, signal: "interrupt" });
  } else if (signal === "KILL" || signal === "SIGKILL") {
    await client.call("process/terminate", { processId });
  } else {
    throw new ExecboxUnsupportedError("signals", `signal ${signal}`);
  }
}
