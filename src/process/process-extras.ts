/**
 * What execbox adds to one process beyond the reference's API: its listing
 * (`process/list`), timeouts and output watches. Fed from a tap on the
 * process's event sink (output chunks, `exited`, `closed`), so the process
 * itself knows nothing of them.
 */
import type { NotificationName, NotificationParams } from "../protocol/methods.ts";
import type { ProcessListEntry } from "../protocol/messages/process-list.ts";
import type { OutputStream, ProcessStartParams } from "../protocol/messages/process.ts";
import type { Clock } from "../server/clock.ts";
import type { ProcessEventSink } from "./managed-process.ts";
import { RunTimeouts } from "./run-timeouts.ts";
import { OutputWatches } from "./output-watch.ts";
import type { RetainedChunk } from "./output-log.ts";
import type { WatchPattern } from "./watch-pattern.ts";

/** What the extras read from the running process. */
export type ProcessView = {
  readonly pid: number;
  readonly running: boolean;
  readonly closed: boolean;
  readonly bytesOut: number;
  /** Signals the child's process group, exited or not (a descendant may still hold its output). */
  signalGroup(signal: "SIGTERM" | "SIGKILL"): void;
};

export class ProcessExtras {
  private readonly startedAtMs: number;
  private exitedAtMs: number | null = null;
  private exitCode: number | null = null;
  /** The sink to give the process: sees every event, then passes it on. */
  readonly sink: ProcessEventSink;
  private timeouts: RunTimeouts | null = null;
  private readonly watches: OutputWatches;

  constructor(
    private readonly params: ProcessStartParams,
    outer: ProcessEventSink,
    private readonly clock: Clock,
  ) {
    this.startedAtMs = clock.now();
    this.watches = new OutputWatches((match) => outer.notify("process/watchMatched", { processId: params.processId, ...match }));
    this.sink = {
      notify: <N extends NotificationName>(method: N, p: NotificationParams<N>) => {
        if (method === "process/exited") p = this.exited(p as NotificationParams<"process/exited">) as NotificationParams<N>;
        if (method === "process/closed") this.closed();
        outer.notify(method, p);
      },
      output: (processId, seq, stream, bytes) => {
        this.timeouts?.activity();
        outer.output(processId, seq, stream, bytes);
        // After the chunk, so a client sees the output before the match that points at it.
        this.watches.feed(seq, stream, bytes);
      },
      ready: () => {
        const wait = outer.ready();
        if (wait) this.timeouts?.held(wait);
        return wait;
      },
      ask: (method, params, timeoutMs, signal) => outer.ask(method, params, timeoutMs, signal),
    };
  }

  /** The process is spawned: its timeouts start. */
  attach(proc: ProcessView): void {
    if (this.params.timeoutMs == null && this.params.idleTimeoutMs == null) return;
    this.timeouts = new RunTimeouts(this.params, this.clock, (signal) => {
      if (!proc.closed) proc.signalGroup(signal);
    });
  }

  /** `timedOut` joins the notification only when a timeout fired, so clients of the reference see its shape. */
  private exited(params: NotificationParams<"process/exited">): NotificationParams<"process/exited"> {
    this.exitCode = params.exitCode;
    this.exitedAtMs = this.clock.now();
    this.watches.flush();
    this.timeouts?.exited();
    const fired = this.timeouts?.fired;
    return fired ? { ...params, timedOut: fired } : params;
  }

  private closed(): void {
    this.watches.close();
    this.timeouts?.closed();
  }

  get watchCount(): number {
    return this.watches.size;
  }

  /** A new watch, first run over `retained`; on a closed process that is all it sees (with the unfinished last line). */
  watch(proc: ProcessView, pattern: WatchPattern, stream: OutputStream | null, retained: RetainedChunk[]): string {
    const id = this.watches.add(pattern, stream, retained);
    if (proc.closed) this.watches.close();
    return id;
  }

  unwatch(watchId: string): boolean {
    return this.watches.remove(watchId);
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
