/**
 * The execbox client: typed calls over one channel at a time, notification
 * routing, and (WebSocket) automatic resume. States: `connected` →
 * `recovering` (the channel dropped; reconnecting with backoff and resuming
 * the session) → `connected` again, or `failed` once RECOVERY_DEADLINE_MS
 * passes; `closed` after close().
 */
import type { EnvironmentInfo } from "../protocol/messages/environment.ts";
import type { ProcessReadResult } from "../protocol/messages/process.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { type ExtensionName, supportsExtension } from "../protocol/extensions.ts";
import { INITIALIZED, type MethodName, Notifications, type NotificationName, type ResultOf } from "../protocol/methods.ts";
import { CALL_TIMEOUT_MS, PendingCalls } from "./calls.ts";
import { Emitter } from "./emitter.ts";
import { ExecboxConnectionError, ExecboxRpcError, ExecboxUnsupportedError } from "./errors.ts";
import { type RemoteFile, openRemoteFile, readRemoteFile } from "./files.ts";
import { HttpBodyStream, type HttpRequestParams, type HttpResult, bufferedBody, httpResult } from "./http.ts";
import { type ProcessHost, RemoteProcess } from "./remote-process.ts";
import type { Channel, Connector } from "./transport.ts";
import type { RemoteTunnel } from "./tunnel.ts";
import { ClientTunnels, type TunnelOpenOptions } from "./tunnels.ts";
import type { CallArgs, CallParams, CallableMethod } from "./types.ts";
import { type OutputWatch, type WatchOptions, checkStartExtensions, listProcesses, watchOutput } from "./process-extensions.ts";
import type { ProcessListEntry } from "../protocol/messages/process-list.ts";

/** How long a dropped WebSocket is retried before the client fails (the executor keeps a detached session ≈ 80 s). */
export const RECOVERY_DEADLINE_MS = 75_000;
/** Reconnect backoff: the first retry is immediate, then this doubles… */
export const RECONNECT_BACKOFF_MIN_MS = 50;
/** …up to this. */
export const RECONNECT_BACKOFF_MAX_MS = 2_000;
export const DEFAULT_CLIENT_NAME = "execbox-client";

export type ClientState = "connecting" | "connected" | "recovering" | "failed" | "closed";
export type ClientEvents = {
  state: [state: ClientState, error?: Error];
  /** Every notification, including those the client routes itself. */
  notification: [method: string, params: unknown];
};
export type ClientOptions = {
  clientName?: string;
  callTimeoutMs?: number;
  recoveryDeadlineMs?: number;
  /** Resume this detached session (its processes) instead of starting a new one, e.g. to signal what a gone client left running. */
  resumeSessionId?: string;
};
export type StartProcessParams = Omit<CallParams<"process/start">, "processId"> & { processId?: string };

const noop = () => {};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const describe = (e: unknown) => (e instanceof Error ? e.message : String(e));

export class ExecboxClient {
  private current: ClientState = "connecting";
  /** The session (kept across resumes) and the executor's environment as of the last initialize. */
  sessionId = "";
  environmentInfo!: EnvironmentInfo;
  /** Increments with every attached connection (file handles and HTTP streams belong to one). */
  connectionEpoch = 0;
  private readonly emitter = new Emitter<ClientEvents>();
  private readonly calls = new PendingCalls();
  private readonly processes = new Map<string, RemoteProcess>();
  private readonly bodies = new Map<string, HttpBodyStream>();
  private readonly tunnels = new ClientTunnels((method, ...args) => this.call(method, ...args), {
    available: () => this.supports("tunnel", 2) && this.channel?.sendBinary !== undefined,
    send: (bytes) => {
      if (!this.channel?.sendBinary) throw new ExecboxConnectionError("no connection", "tunnel/write");
      this.channel.sendBinary(bytes);
    },
  });
  private channel: Channel | null = null;
  /** The current channel completed `initialize`: queued calls may go out. */
  private live = false;
  private readonly options: Required<ClientOptions>;

  private constructor(
    private readonly connector: Connector,
    options: ClientOptions,
  ) {
    this.options = {
      clientName: options.clientName ?? DEFAULT_CLIENT_NAME,
      callTimeoutMs: options.callTimeoutMs ?? CALL_TIMEOUT_MS,
      recoveryDeadlineMs: options.recoveryDeadlineMs ?? RECOVERY_DEADLINE_MS,
      resumeSessionId: options.resumeSessionId ?? "",
    };
  }

  /** Opens a channel and initializes a new session; rejects if either fails (no retry). */
  static async connect(connector: Connector, options: ClientOptions = {}): Promise<ExecboxClient> {
    const client = new ExecboxClient(connector, options);
    try {
      await client.attach(client.options.resumeSessionId || undefined, client.options.callTimeoutMs);
    } catch (e) {
      await client.close();
      throw e;
    }
    client.setState("connected");
    return client;
  }

  /** Whether the executor advertises execbox extension `name` (at `version` or newer); the reference advertises none. */
  supports(name: ExtensionName, version = 1): boolean {
    return supportsExtension(this.environmentInfo, name, version);
  }

  get state(): ClientState {
    return this.current;
  }

  /** Bytes the connection holds unsent (0 where the transport cannot tell) and calls not sent yet (no connection, or it is congested). */
  get sendBacklog(): { queuedBytes: number; waitingCalls: number } {
    return { queuedBytes: this.channel?.queuedBytes ?? 0, waitingCalls: this.calls.waiting };
  }

  on<K extends keyof ClientEvents>(event: K, listener: (...args: ClientEvents[K]) => void): () => void {
    return this.emitter.on(event, listener);
  }

  /** A typed request: params and result come from the method table; results are schema-checked. */
  call<M extends CallableMethod>(method: M, ...[params, options]: CallArgs<M>): Promise<ResultOf<M>> {
    let timeoutMs = options?.timeoutMs ?? this.options.callTimeoutMs;
    // A long-poll read legitimately takes its waitMs on top.
    if (method === "process/read") timeoutMs += Number((params as { waitMs?: number } | undefined)?.waitMs ?? 0);
    return this.request(method, params, timeoutMs, false);
  }

  /** Starts a process and returns it; its output can arrive before the start response, so it is tracked first. */
  async startProcess(params: StartProcessParams): Promise<RemoteProcess> {
    const processId = params.processId ?? crypto.randomUUID();
    if (this.processes.has(processId)) throw new Error(`process ${processId} is already tracked by this client`);
    checkStartExtensions(this.environmentInfo, params);
    const proc = new RemoteProcess(processId, this.processHost);
    this.processes.set(processId, proc);
    try {
      await this.call("process/start", { ...params, processId });
    } catch (e) {
      proc.fail(e);
      // It may be running with nobody to read it; a later terminate is harmless if it is not.
      if (e instanceof ExecboxConnectionError && e.mayHaveApplied) void this.call("process/terminate", { processId }).catch(noop);
      throw e;
    }
    proc.started = true;
    return proc;
  }

  /** `process/list`: the session's processes (extension `processList`). */
  list(): Promise<ProcessListEntry[]> {
    return listProcesses(this);
  }

  /** `process/watch`: resolves `matched` with the first line of `processId`'s output matching `pattern` (RE2 syntax; extension `outputWatch`). */
  watch(processId: string, pattern: string, options?: WatchOptions): Promise<OutputWatch> {
    return watchOutput(this, processId, pattern, options);
  }

  /** Opens a remote file for streaming reads in 1 MiB blocks (path: `file:` URI or absolute path). */
  openFile(path: string, blockBytes?: number): Promise<RemoteFile> {
    return openRemoteFile(this, path, blockBytes);
  }

  /** Reads a whole remote file through `openFile`. */
  readFile(path: string): Promise<Uint8Array> {
    return readRemoteFile(this, path);
  }

  /** `http/request`; with `streamResponse` the body is an ordered stream of the deltas. */
  async httpRequest(params: HttpRequestParams): Promise<HttpResult> {
    const requestId = params.requestId ?? crypto.randomUUID();
    if (!params.streamResponse) return this.call("http/request", { ...params, requestId }).then((r) => httpResult(r, bufferedBody(r.bodyBase64)));
    if (this.bodies.has(requestId)) throw new Error(`a streamed request ${requestId} is already active`);
    const stream = new HttpBodyStream(requestId, (s) => this.bodies.get(s.requestId) === s && this.bodies.delete(s.requestId));
    this.bodies.set(requestId, stream);
    try {
      return httpResult(await this.call("http/request", { ...params, requestId }), stream.queue);
    } catch (e) {
      stream.fail(e);
      throw e;
    }
  }

  /**
   * Opens a tunnel to `host:port` on the executor (loopback only; host
   * defaults to 127.0.0.1) if it has the `tunnel` extension
   * (`supportsExtension(client.environmentInfo, "tunnel")`). Tunnels belong to
   * the connection: a reconnect ends them with `connectionLost`. Its bytes go
   * as binary WebSocket frames where the executor (tunnel version 2) and the
   * transport allow, else as base64 JSON; `binary: false` keeps them JSON.
   */
  openTunnel(params: TunnelOpenOptions): Promise<RemoteTunnel> {
    return this.tunnels.open(params);
  }

  /** Ends the session's connection (stdio: the executor exits); everything pending rejects. */
  async close(): Promise<void> {
    if (this.current === "closed") return;
    const channel = this.teardown("closed", new ExecboxConnectionError("the client was closed"));
    await channel?.close();
  }

  private readonly processHost: ProcessHost = {
    write: async (processId, chunk, writeId) => (await this.call("process/write", { processId, chunk, writeId })).status,
    interrupt: async (processId) => void (await this.call("process/signal", { processId, signal: "interrupt" })),
    closeStdin: async (processId, writeId) => {
      this.require("closeStdin", "closing a process's stdin");
      return (await this.call("process/write", { processId, writeId, closeStdin: true })).status;
    },
    resize: async (processId, size) => {
      this.require("ptySize", "resizing a PTY");
      await this.call("process/resizePty", { processId, size });
    },
    signal: async (processId, signal) => {
      if (signal !== "interrupt") this.require("signals", `signal ${signal}`);
      await this.call("process/signal", { processId, signal });
    },
    terminate: async (processId) => (await this.call("process/terminate", { processId })).running,
    forget: (processId) => this.processes.delete(processId),
  };

  /** Throws ExecboxUnsupportedError, before anything is sent, unless the executor advertises `name`. */
  private require(name: ExtensionName, what: string): void {
    if (!this.supports(name)) throw new ExecboxUnsupportedError(name, what);
  }

  private request<M extends MethodName>(method: M, params: unknown, timeoutMs: number, pinned: boolean): Promise<ResultOf<M>> {
    if (this.current === "closed" || this.current === "failed") {
      return Promise.reject(new ExecboxConnectionError(`the client is ${this.current}`, method));
    }
    if (pinned && !this.channel) return Promise.reject(new ExecboxConnectionError("no connection", method));
    const { call, promise } = this.calls.add(method, params, timeoutMs, pinned);
    // Otherwise the call waits in the queue for the next initialized connection, or for a congested one to drain.
    if (this.channel && pinned) this.calls.send(call, this.channel);
    else if (this.channel && this.live) this.calls.flush(this.channel);
    return promise as Promise<ResultOf<M>>;
  }

  /** Opens a channel and runs `initialize` (resuming `resumeSessionId` if given), then flushes queued calls. */
  private async attach(resumeSessionId: string | undefined, timeoutMs: number): Promise<void> {
    let channel: Channel | undefined = undefined;
    channel = await this.connector.open({
      message: (text) => channel === this.channel && this.onMessage(text),
      tunnelFrame: (bytes) => channel === this.channel && this.tunnels.receiveFrame(bytes),
      closed: (reason, serverShutdown) => channel && this.dropChannel(channel, reason, serverShutdown),
      drained: () => channel === this.channel && this.live && this.calls.flush(channel),
    });
    if (channel.closed) throw new ExecboxConnectionError(`connection to ${this.connector.target} closed at once`);
    this.channel = channel;
    this.connectionEpoch++;
    const init = await this.request("initialize", { clientName: this.options.clientName, resumeSessionId }, timeoutMs, true);
    channel.send(JSON.stringify({ method: INITIALIZED, params: {} }));
    this.sessionId = init.sessionId;
    this.environmentInfo = init.environmentInfo;
    this.live = true;
    this.calls.flush(channel);
  }

  private onMessage(text: string): void {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(text);
    } catch {
      return;
    }
    if (msg === null || typeof msg !== "object") return;
    if (typeof msg.method === "string" && !("id" in msg)) this.onNotification(msg.method, msg.params);
    // The server never sends requests; answering one would be a protocol violation, so anything else is ignored.
    else if ("id" in msg && ("result" in msg || "error" in msg)) this.calls.answer(msg);
  }

  private onNotification(method: string, params: unknown): void {
    if (Object.hasOwn(Notifications, method)) {
      const parsed = Notifications[method as NotificationName].safeParse(params);
      if (parsed.success && method.startsWith("process/")) {
        const p = parsed.data as { processId: string };
        this.processes.get(p.processId)?.receive(method as "process/output", parsed.data as never);
      } else if (parsed.success && method === "http/request/bodyDelta") {
        const d = parsed.data as { requestId: string };
        this.bodies.get(d.requestId)?.receive(parsed.data as never);
      } else if (parsed.success && method.startsWith("tunnel/")) {
        this.tunnels.receive(method as "tunnel/data", parsed.data as { tunnelId: string });
      }
    }
    this.emitter.emit("notification", method, params);
  }

  /**
   * A channel is gone (peer, network, or us giving up on it). When the
   * executor said it is shutting down, nothing will resume: fail at once.
   */
  private dropChannel(channel: Channel, reason: string, serverShutdown = false): void {
    if (channel !== this.channel) return;
    if (serverShutdown) {
      const error = new ExecboxConnectionError(`the executor at ${this.connector.target} is shutting down`, undefined, false, "server-shutdown");
      return void this.teardown("failed", error);
    }
    this.channel = null;
    this.live = false;
    const lost = new ExecboxConnectionError(`connection lost (${reason}); file handles, HTTP body streams and tunnels do not survive it`);
    for (const body of [...this.bodies.values()]) body.fail(lost);
    this.tunnels.failAll(lost);
    const resumable = this.connector.resumable && this.current !== "connecting";
    this.calls.dropped(channel, resumable);
    void channel.close();
    if (this.current === "connected") {
      if (!resumable) return void this.teardown("failed", new ExecboxConnectionError(`connection to ${this.connector.target} lost: ${reason}`));
      this.setState("recovering");
      void this.recover();
    }
    // While recovering, the running attempt sees its pinned calls fail and retries.
  }

  /** Reconnects with backoff until RECOVERY_DEADLINE_MS, resumes the session, and catches every live process up. */
  private async recover(): Promise<void> {
    const deadline = Date.now() + this.options.recoveryDeadlineMs;
    let lastError: unknown = "no attempt";
    for (let attempt = 0; this.current === "recovering"; attempt++) {
      const backoff = attempt === 0 ? 0 : Math.min(RECONNECT_BACKOFF_MAX_MS, RECONNECT_BACKOFF_MIN_MS * 2 ** (attempt - 1));
      if (Date.now() + backoff >= deadline) break;
      if (backoff > 0) await sleep(backoff * (0.8 + 0.4 * Math.random()));
      if (this.current !== "recovering") return;
      try {
        const left = Math.max(1, deadline - Date.now());
        await this.attach(this.sessionId, Math.min(left, this.options.callTimeoutMs));
        await this.catchUpAll(Math.min(Math.max(1, deadline - Date.now()), this.options.callTimeoutMs));
        if (this.current === "recovering" && this.live) return this.setState("connected");
      } catch (e) {
        lastError = e;
        // Unknown or expired session: its processes are gone, retrying cannot help. -32010 (still attached) can.
        if (e instanceof ExecboxRpcError && e.method === "initialize" && e.code !== ErrorCode.SessionAttached) {
          return void this.teardown("failed", new ExecboxConnectionError(`cannot resume session ${this.sessionId}: ${e.message}`));
        }
        if (this.channel) this.dropChannel(this.channel, `resume failed: ${describe(e)}`);
      }
    }
    if (this.current === "recovering") {
      this.teardown("failed", new ExecboxConnectionError(`could not resume the session within ${this.options.recoveryDeadlineMs} ms: ${describe(lastError)}`));
    }
  }

  private async catchUpAll(timeoutMs: number): Promise<void> {
    const read = (params: object) => this.request("process/read", params, timeoutMs, true) as Promise<ProcessReadResult>;
    const live = [...this.processes.values()].filter((p) => p.started);
    await Promise.all(
      live.map((p) =>
        p.catchUp(read).catch((e) => {
          // The executor no longer knows the process (retention ended): that process alone fails.
          if (e instanceof ExecboxRpcError) p.fail(e);
          else throw e;
        }),
      ),
    );
  }

  /** Enters a final state: every pending call, process and stream rejects. Returns the channel to close. */
  private teardown(state: "failed" | "closed", error: ExecboxConnectionError): Channel | null {
    if (this.current === "failed" || this.current === "closed") return null;
    const channel = this.channel;
    this.channel = null;
    this.live = false;
    this.current = state;
    this.calls.rejectAll((method, sent) => new ExecboxConnectionError(error.message, method, sent, error.reason));
    for (const p of [...this.processes.values()]) p.fail(error);
    for (const b of [...this.bodies.values()]) b.fail(error);
    this.tunnels.failAll(error);
    if (state === "failed") void channel?.close();
    this.emitter.emit("state", state, state === "failed" ? error : undefined);
    return channel;
  }

  private setState(state: ClientState): void {
    this.current = state;
    this.emitter.emit("state", state);
  }
}
