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
import { watchEngine } from "./watch-engine.ts";

/** What the extras read from the running process. */
export type ProcessView = {
  readonly pid: number;
  readonly running: boolean;
  readonly closed: boolean;
  readonly bytesOut: number;
  /** Retained output chunks after `afterSeq`, up to about `maxBytes` (at least one). */
  retained(afterSeq: number, maxBytes: number): RetainedChunk[];
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
  private proc: ProcessView | null = null;

  constructor(
    private readonly params: ProcessStartParams,
    outer: ProcessEventSink,
    private readonly clock: Clock,
  ) {
    this.startedAtMs = clock.now();
    this.watches = new OutputWatches(
      watchEngine,
      (afterSeq, maxBytes) => this.proc?.retained(afterSeq, maxBytes) ?? [],
      (match) => outer.notify("process/watchMatched", { processId: params.processId, ...match }),
    );
    this.sink = {
      notify: <N extends NotificationName>(method: N, p: NotificationParams<N>) => {
        if (method === "process/exited") p = this.exited(p as NotificationParams<"process/exited">) as NotificationParams<N>;
        if (method === "process/closed") {
          // After the watches' last matches: a client that sees `closed` has seen them all.
          const settled = this.closed();
          if (settled) return void settled.then(() => outer.notify(method, p));
        }
        outer.notify(method, p);
      },
      output: (processId, seq, stream, bytes) => {
        this.timeouts?.activity();
        outer.output(processId, seq, stream, bytes);
        // After the chunk, so a client sees the output before the match that points at it.
        this.watches.feed(seq, stream, bytes);
      },
      ready: () => {
        const outerWait = outer.ready();
        if (outerWait) this.consumerHolds(outerWait);
        const wait = outerWait ?? this.watches.hold();
        if (wait) this.timeouts?.held(wait);
        return wait;
      },
      ask: (method, params, timeoutMs, signal) => outer.ask(method, params, timeoutMs, signal),
    };
  }

  /**
   * Output the consumer (the connection) is holding back, counted from the
   * waits it answered the process with: asking it again at the exit would
   * count as one more wait of its own.
   */
  private consumerHolding = 0;
  private consumerHolds(wait: Promise<void>): void {
    this.consumerHolding++;
    void wait.then(() => this.consumerHolding--);
  }

  /** The process is spawned: its timeouts start. */
  attach(proc: ProcessView): void {
    this.proc = proc;
    if (this.params.timeoutMs == null && this.params.idleTimeoutMs == null) return;
    this.timeouts = new RunTimeouts(this.params, this.clock, (signal) => {
      if (!proc.closed) proc.signalGroup(signal);
    });
  }

  /** `timedOut` joins the notification only when a timeout fired, so clients of the reference see its shape. */
  private exited(params: NotificationParams<"process/exited">): NotificationParams<"process/exited"> {
    this.exitCode = params.exitCode;
    this.exitedAtMs = this.clock.now();
    this.watches.exited(this.consumerHolding > 0);
    this.timeouts?.exited();
    const fired = this.timeouts?.fired;
    return fired ? { ...params, timedOut: fired } : params;
  }

  private closed(): Promise<void> | undefined {
    this.timeouts?.closed();
    return this.watches.close();
  }

  /** The process's retained output is released: watches still reading it are dropped. */
  forgotten(): void {
    this.watches.dispose();
  }

  get watchCount(): number {
    return this.watches.size;
  }

  /** A new watch; with `afterSeq`, first over the retained output after it (on a closed process that is all it sees). */
  watch(pattern: string, stream: OutputStream | null, afterSeq: number | null): Promise<string> {
    return this.watches.add(pattern, stream, afterSeq);
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
