/**
 * What execbox adds to one process beyond the reference's API: its listing
 * (`process/list`), timeouts and output watches. Fed from a tap on the
 * process's event sink (output chunks, `exited`, `closed`), so the process
 * itself knows nothing of them.
 */
import type { NotificationName, NotificationParams } from "../protocol/methods.ts";
import type { ProcessListEntry } from "../protocol/messages/process-list.ts";
import type { ProcessStartParams } from "../protocol/messages/process.ts";
import type { Clock } from "../server/clock.ts";
import type { ProcessEventSink } from "./managed-process.ts";

/** What the extras read from the running process. */
export type ProcessView = { readonly pid: number; readonly running: boolean; readonly closed: boolean; readonly bytesOut: number };

export class ProcessExtras {
  private readonly startedAtMs: number;
  private exitedAtMs: number | null = null;
  private exitCode: number | null = null;
  /** The sink to give the process: sees every event, then passes it on. */
  readonly sink: ProcessEventSink;

  constructor(
    private readonly params: ProcessStartParams,
    outer: ProcessEventSink,
    private readonly clock: Clock,
  ) {
    this.startedAtMs = clock.now();
    this.sink = {
      notify: <N extends NotificationName>(method: N, p: NotificationParams<N>) => {
        if (method === "process/exited") this.exited((p as NotificationParams<"process/exited">).exitCode);
        outer.notify(method, p);
      },
      output: (processId, seq, stream, bytes) => outer.output(processId, seq, stream, bytes),
      ready: () => outer.ready(),
    };
  }

  private exited(exitCode: number): void {
    this.exitCode = exitCode;
    this.exitedAtMs = this.clock.now();
  }

  describe(proc: ProcessView): ProcessListEntry {
    return {
      processId: this.params.processId,
      argv: this.params.argv,
      pid: proc.pid,
      tty: this.params.tty,
      state: proc.closed ? "closed" : proc.running ? "running" : "exited",
      exitCode: this.exitCode,
      startedAtMs: this.startedAtMs,
      exitedAtMs: this.exitedAtMs,
      bytesOut: proc.bytesOut,
    };
  }
}
