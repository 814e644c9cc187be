/**
 * One client connection, whatever the transport: frames in, frames out.
 * Owns the lifecycle (initialize → initialized), request admission in
 * arrival order, and the one place where errors become JSON-RPC error
 * responses. What waits and what bounds it is the connection's flow
 * (ConnectionFlow) and its inbox.
 */
import { RpcError, internalError, invalidRequest } from "../protocol/errors.ts";
import {
  type Incoming,
  type RequestId,
  UNPARSEABLE_ID,
  encodeError,
  encodeResult,
  parseIncoming,
} from "../protocol/envelope.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { INITIALIZED, type NotificationName, type NotificationParams } from "../protocol/methods.ts";
import type { InitializeResult } from "../protocol/messages/lifecycle.ts";
import { FileHandleTable } from "../fs/handles.ts";
import { MissingWatches } from "../fs/watch-missing.ts";
import { HttpStreams } from "../http/request.ts";
import { TunnelTable } from "../tunnel/table.ts";
import type { TunnelFrameRefusal } from "../protocol/tunnel-frame.ts";
import { encodeNotification } from "../protocol/envelope.ts";
import { decodeParams, dispatch, type RequestContext } from "./router.ts";
import { type ConnectionTransport, ConnectionFlow, type Frame } from "./flow.ts";
import { Inbox } from "./inbox.ts";
import type { TraceContext } from "../protocol/trace-context.ts";
import { metrics, observeRequest } from "./metrics.ts";
import { LARGE_MESSAGE_ROOM_AFTER_START_MS, MAX_INCOMING_JSON_VALUES } from "./limits.ts";
import { type ServerContext, serverEnvironmentInfo } from "./server-context.ts";
import type { Attachment, Session } from "./session.ts";
import { log } from "../log/logger.ts";
import { type ClientAnswer, ClientRequests } from "./client-requests.ts";

type Lifecycle = "new" | "initializing" | "awaiting-initialized" | "ready";

export type ConnectionOptions = {
  /** Prefix of the -32600 reply to an unparseable frame, naming the transport and peer. */
  parseErrorPrefix: string;
  /** WebSocket: a closed connection detaches its session. stdio: it ends it. */
  detachOnClose: boolean;
  /** For the log: how the client is connected (`websocket`, `stdio`, `relay`, `direct`) and from where. */
  transport?: string;
  peer?: string;
};

export class Connection implements Attachment {
  private readonly flow: ConnectionFlow;
  private lifecycle: Lifecycle = "new";
  private session: Session | null = null;
  private readonly inbox: Inbox;
  private admitting = false;
  private closed = false;
  /** Connection-scoped resources: they do not survive a reconnect. */
  private readonly files = new FileHandleTable();
  private readonly watches = new MissingWatches((watchId) => this.send(encodeNotification("fs/missingChanged", { watchId })));
  private readonly http: HttpStreams;
  private readonly tunnels = new TunnelTable(this);
  /** Requests this connection sent the client (network/policyRequest); they fail when it closes. */
  private readonly clientRequests = new ClientRequests((frame) => this.send(frame));
  private readonly openedAt = Date.now();
  /** The session this connection attached, for its closing log line. */
  private sessionId: string | undefined;

  constructor(
    private readonly transport: ConnectionTransport,
    private readonly server: ServerContext,
    private readonly options: ConnectionOptions,
  ) {
    this.flow = new ConnectionFlow(transport, server.concurrentRequests);
    this.inbox = new Inbox(this.flow, server.incoming);
    this.http = new HttpStreams(server.env);
    metrics.connectionOpened();
  }

  /** See Inbox.admitMessage: a large message's share of the executor-wide room, or null to wait. */
  admitMessage(soFar: number, final: boolean, retry: () => void): number | null {
    return this.inbox.admitMessage(soFar, final, retry);
  }

  /**
   * One frame (WebSocket message or stdio line) from the client. `trace`: the
   * transport's trace context (a relay data frame's), used when the request
   * carries none of its own.
   */
  receive(text: string, trace?: TraceContext): void {
    if (this.closed) return;
    const msg = parseIncoming(text, MAX_INCOMING_JSON_VALUES);
    if (trace && msg.kind === "request" && !msg.trace) msg.trace = trace;
    this.inbox.push(msg, text.length);
    void this.admit();
  }

  /**
   * A tunnel on this connection was opened with `binary: true`: binary
   * messages starting with a tunnel frame kind are tunnel frames. Until then
   * every binary message is JSON, so a client that never opts in gets the
   * reference's answers (a parse error, the connection kept open).
   */
  get takesTunnelFrames(): boolean {
    return this.tunnels.takesFrames;
  }

  /** A binary tunnel frame from the client (WebSocket); a refusal is what to close the connection with. */
  receiveTunnelFrame(message: Uint8Array): TunnelFrameRefusal | undefined {
    if (this.closed) return undefined;
    return this.tunnels.receiveFrame(message);
  }

  /** A tunnel bound (the bytes its connection's tunnels hold for their ports, tunnel/table.ts) stops or resumes reading the client. */
  holdReading(on: boolean): void {
    this.flow.holdReading("tunnel-writes", on);
  }

  /** Whether the transport carries binary messages (binary tunnel frames). */
  get carriesBinary(): boolean {
    return this.transport.binary === true;
  }

  /** The transport can take more outgoing frames. */
  drained(): void {
    this.flow.drained();
  }

  /** `answer`: a request's reply, which counts towards the answer backlog that holds further requests (see ConnectionFlow). */
  send(frame: Frame, answer = false): void {
    // Binary tunnel frames leave no garbage to reclaim (their encoding buffer is shared, the port's read buffer and
    // any unsent copy are freed at once): a full collection every 64 MiB cost a tunnel 7% of the executor's CPU.
    if (typeof frame !== "string" && !frame.binary) this.server.incoming.reclaimer.sent(frame.end - frame.start);
    this.flow.send(frame, answer);
  }

  ready(): Promise<void> | undefined {
    return this.flow.ready();
  }

  ask(method: string, params: unknown, timeoutMs: number, signal?: AbortSignal): Promise<ClientAnswer> {
    return this.clientRequests.ask(method, params, timeoutMs, signal);
  }

  /** Resolves once every received message has been handled and answered (stdio EOF). */
  async idle(): Promise<void> {
    while (!this.closed && (this.inbox.length > 0 || this.flow.requestsInFlight > 0 || this.admitting)) {
      await new Promise<void>((r) => this.progressWaiters.push(r));
    }
  }

  /** Woken whenever a request settles or admission stops, for `idle()`. */
  private progressWaiters: (() => void)[] = [];

  private progressed(): void {
    const waiters = this.progressWaiters;
    this.progressWaiters = [];
    for (const w of waiters) w();
  }

  /** The transport closed (or we dropped it) for `why`: detach or end the session. */
  async closedByTransport(why = "closed"): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (log.on("info")) log.info("client disconnected", { ...this.who(), session: this.sessionId, reason: why, duration_ms: Date.now() - this.openedAt });
    metrics.connectionClosed();
    this.inbox.close();
    this.clientRequests.closeAll();
    this.progressed();
    // Detach first and synchronously: once the flow is closed its producers
    // run again, and they must already see a detached session (holding unread
    // output) rather than push frames into a dead connection.
    const session = this.session;
    this.session = null;
    const ours = session?.attachment === this;
    if (ours && this.options.detachOnClose) this.server.sessions.detach(session);
    this.flow.close();
    this.watches.closeAll();
    this.http.closeAll();
    this.tunnels.closeAll();
    await this.files.closeAll();
    if (ours && !this.options.detachOnClose) await this.server.sessions.end(session);
  }

  /**
   * Takes messages in arrival order. A request waits for the flow's request
   * slot; `initialize` completes before anything after it is looked at, so
   * `initialized` and later requests see its outcome.
   */
  private async admit(): Promise<void> {
    if (this.admitting) return;
    this.admitting = true;
    try {
      while (this.inbox.length > 0 && !this.closed) {
        const entry = this.inbox.shift()!;
        const msg = entry.msg;
        // An unparseable frame takes a request slot too, so its error reply keeps its place in line.
        if (msg.kind === "request" || msg.kind === "malformed") {
          if (!(await this.flow.requestSlot())) {
            this.inbox.finished(entry);
            break;
          }
          const work = msg.kind === "request" ? this.handleRequest(msg.id, msg.method, msg.params, msg.trace) : this.rejectMalformed(msg.detail);
          // The room is held until the answer (the handler's copies count too), but not by a handler that
          // waits on something outside: a write into a child that never reads would keep it forever and
          // starve every other connection's large messages.
          const handOff = entry.reserved > 0 ? setTimeout(() => this.inbox.release(entry), LARGE_MESSAGE_ROOM_AFTER_START_MS) : undefined;
          const done = work.finally(() => {
            clearTimeout(handOff);
            this.inbox.finished(entry);
            this.flow.releaseSlot();
            this.progressed();
          });
          if (msg.kind === "request" && msg.method === "initialize") await done;
        } else {
          this.handleOther(msg);
          this.inbox.finished(entry);
        }
      }
    } finally {
      this.admitting = false;
      this.progressed();
    }
  }

  private async rejectMalformed(detail: string): Promise<void> {
    this.send(encodeError(UNPARSEABLE_ID, ErrorCode.InvalidRequest, this.options.parseErrorPrefix + detail), true);
  }

  private handleOther(msg: Extract<Incoming, { kind: "notification" | "response" }>): void {
    switch (msg.kind) {
      case "notification":
        if (msg.method === INITIALIZED && this.lifecycle !== "new" && this.lifecycle !== "initializing") {
          if (this.lifecycle === "awaiting-initialized") this.lifecycle = "ready";
          return;
        }
        return this.violation();
      case "response":
        // An answer to none of our requests drops the connection, as the reference does.
        if (!this.clientRequests.complete(msg)) this.violation();
        return;
    }
  }

  /** Protocol violations drop the connection without a reply, as the reference does. */
  private violation(): void {
    this.transport.abort();
    void this.closedByTransport("protocol violation");
  }

  private async handleRequest(id: RequestId, method: string, params: unknown, trace: TraceContext | undefined): Promise<void> {
    let reply: Frame;
    const started = log.on("trace") ? Date.now() : 0;
    let code: number | undefined;
    const afterReply: (() => void)[] = [];
    const observed = observeRequest(method, params, trace ?? null);
    try {
      const result =
        method === "initialize"
          ? await this.initialize(params)
          : await dispatch(method, params, (f) => this.gate(f, afterReply, trace ?? null));
      reply = encodeResult(id, result);
      observed(this.session?.id);
    } catch (e) {
      const err = e instanceof RpcError ? e : internalError(e instanceof Error ? e.message : String(e));
      reply = encodeError(id, err.code, err.message, err.data);
      code = err.code;
      observed(this.session?.id, err);
    }
    // The method and outcome only: params may hold secrets (env, argv, bodies); a string id is the client's text, left out too.
    if (started) log.trace("request", { ...this.who(), method, id: /^\d{1,15}$/.test(id.json) ? Number(id.json) : undefined, error: code, ms: Date.now() - started });
    if (this.closed) return;
    this.send(reply, true);
    for (const fn of afterReply) fn();
  }

  private who(): { transport: string | undefined; peer: string | undefined } {
    return { transport: this.options.transport, peer: this.options.peer };
  }

  private gate(family: string, afterReply: (() => void)[], trace: TraceContext | null): RequestContext {
    if (this.lifecycle === "new" || this.lifecycle === "initializing") {
      throw invalidRequest(`client must call initialize before using ${family} methods`);
    }
    if (this.lifecycle === "awaiting-initialized") {
      throw invalidRequest(`client must send initialized before using ${family} methods`);
    }
    const httpConnection = {
      notify: <N extends NotificationName>(m: N, p: NotificationParams<N>) => this.send(encodeNotification(m, p)),
      ready: () => this.flow.ready(),
      afterReply: (fn: () => void) => afterReply.push(fn),
    };
    return {
      server: this.server,
      session: this.session!,
      connection: { files: this.files, watches: this.watches, http: this.http, httpConnection, tunnels: this.tunnels },
      trace,
    };
  }

  private async initialize(raw: unknown): Promise<InitializeResult> {
    const params = decodeParams("initialize", raw);
    if (this.lifecycle !== "new") throw invalidRequest("initialize may only be sent once per connection");
    this.lifecycle = "initializing";
    try {
      this.session = params.resumeSessionId
        ? this.server.sessions.resume(params.resumeSessionId, this)
        : this.server.sessions.create(this);
    } catch (e) {
      this.lifecycle = "new";
      throw e;
    }
    this.lifecycle = "awaiting-initialized";
    this.sessionId = this.session.id;
    log.info("client connected", { ...this.who(), session: this.session.id, resumed: params.resumeSessionId !== undefined });
    return { sessionId: this.session.id, environmentInfo: serverEnvironmentInfo(this.server) };
  }
}
