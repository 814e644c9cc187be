/**
 * Sessions own processes; connections only attach to them. A session whose
 * connection closes is detached: its processes keep running for the detach
 * window and it can be resumed with `resumeSessionId`, after which it is
 * expired and its processes are killed.
 */
import { ErrorCode, RpcError, invalidRequest } from "../protocol/errors.ts";
import { encodeOutputFrame } from "../protocol/byte-frame.ts";
import { encodeNotification } from "../protocol/envelope.ts";
import type { OutputStream } from "../protocol/messages/process.ts";
import type { NotificationName, NotificationParams } from "../protocol/methods.ts";
import type { ProcessEventSink } from "../process/managed-process.ts";
import { ProcessTable, type ProcessTableOptions } from "../process/process-table.ts";
import type { Clock } from "./clock.ts";
import type { ClientAnswer } from "./client-requests.ts";
import type { Frame } from "./flow.ts";
import { metrics } from "./metrics.ts";

/** What a session needs from the connection it is attached to. */
export interface Attachment {
  send(frame: Frame): void;
  ready(): Promise<void> | undefined;
  /** A request to the client (src/server/client-requests.ts). */
  ask(method: string, params: unknown, timeoutMs: number, signal?: AbortSignal): Promise<ClientAnswer>;
}

export class Session implements ProcessEventSink {
  readonly processes: ProcessTable;
  attachment: Attachment | null = null;
  cancelExpiry: (() => void) | null = null;

  constructor(
    readonly id: string,
    options: ProcessTableOptions,
  ) {
    this.processes = new ProcessTable(this, options);
  }

  notify<N extends NotificationName>(method: N, params: NotificationParams<N>): void {
    // While detached, notifications are dropped; the output stays readable with process/read.
    if (!this.attachment) return;
    this.attachment.send(encodeNotification(method, params));
  }

  output(processId: string, seq: number, stream: OutputStream, bytes: Uint8Array): void {
    if (!this.attachment) return;
    this.attachment.send(encodeOutputFrame(processId, seq, stream, bytes));
    metrics.outputSent(bytes.byteLength);
  }

  ready(): Promise<void> | undefined {
    return this.attachment?.ready();
  }

  /**
   * Asks the attached client. While detached nobody can answer: the request
   * fails at once (the caller refuses, fail closed) rather than wait for a
   * resume that may never come; a request in flight when the connection
   * drops fails then.
   */
  ask(method: string, params: unknown, timeoutMs: number, signal?: AbortSignal): Promise<ClientAnswer> {
    if (!this.attachment) return Promise.resolve({ ok: false, failure: "detached" });
    return this.attachment.ask(method, params, timeoutMs, signal);
  }

  /** Attaches a connection, or detaches with null; processes hold unread output meanwhile. */
  attach(attachment: Attachment | null): void {
    const was = this.attachment;
    this.attachment = attachment;
    if (was && !attachment) this.processes.connectionChanged("detached");
    if (attachment && was !== attachment) this.processes.connectionChanged("attached");
  }

  /** The session is over: nobody will read again, so nothing is held back. */
  end(): void {
    this.attachment = null;
    this.processes.connectionChanged("ended");
  }
}

export type SessionOptions = {
  /** How long a detached session (and its processes) waits to be resumed. */
  detachedSessionTtlMs: number;
  /** Sessions held at once, attached or detached; a new one past this is refused. */
  maxSessions: number;
  clock: Clock;
  process: ProcessTableOptions;
};

export class SessionRegistry {
  private readonly sessions = new Map<string, Session>();

  constructor(private readonly options: SessionOptions) {}

  create(attachment: Attachment): Session {
    if (this.sessions.size >= this.options.maxSessions) {
      throw invalidRequest(`initialize refused: this executor already holds ${this.options.maxSessions} sessions, attached or detached (--max-sessions)`);
    }
    const session = new Session(crypto.randomUUID(), this.options.process);
    session.attach(attachment);
    this.sessions.set(session.id, session);
    return session;
  }

  resume(id: string, attachment: Attachment): Session {
    const session = this.sessions.get(id);
    if (!session) throw invalidRequest(`unknown session id ${id}`);
    if (session.attachment) {
      throw new RpcError(ErrorCode.SessionAttached, `session ${id} is already attached to another connection`);
    }
    session.cancelExpiry?.();
    session.cancelExpiry = null;
    session.attach(attachment);
    return session;
  }

  /** The connection went away: keep the session for the detach window. */
  detach(session: Session): void {
    session.attach(null);
    session.cancelExpiry = this.options.clock.after(this.options.detachedSessionTtlMs, () => void this.end(session));
  }

  /** Ends a session now, killing its processes. */
  async end(session: Session): Promise<void> {
    session.cancelExpiry?.();
    session.end();
    this.sessions.delete(session.id);
    await session.processes.terminateAll();
  }

  async shutdown(): Promise<void> {
    await Promise.all([...this.sessions.values()].map((s) => this.end(s)));
  }

  get size(): number {
    return this.sessions.size;
  }

  /** Held and detached sessions, for metrics. */
  counts(): { current: number; detached: number } {
    let detached = 0;
    for (const s of this.sessions.values()) if (!s.attachment) detached++;
    return { current: this.sessions.size, detached };
  }
}
