/**
 * A raw JSON-RPC test client over WebSocket or stdio that records every frame,
 * so tests can assert exact bytes, codes and ordering. Every wait has a deadline.
 */
export type Frame = Record<string, any>;

export const DEFAULT_WAIT_MS = 10_000;

export class RawClient {
  readonly frames: Frame[] = [];
  readonly texts: string[] = [];
  private waiters: (() => void)[] = [];
  private nextId = 1;
  closed = false;
  closeCode: number | undefined;
  /** The close frame's reason (WebSocket). */
  closeReason: string | undefined;

  protected constructor(private readonly sendText: (text: string) => void, private readonly closer: () => void) {}

  static async websocket(url: string, headers?: Record<string, string>): Promise<RawClient> {
    const ws = new WebSocket(url, headers ? ({ headers } as never) : undefined);
    ws.binaryType = "arraybuffer";
    const client = new RawClient(
      (t) => ws.send(t),
      () => ws.close(),
    );
    ws.onmessage = (e) => client.onText(typeof e.data === "string" ? e.data : new TextDecoder().decode(e.data));
    ws.onclose = (e) => {
      client.closeReason = e.reason;
      client.onClose(e.code);
    };
    await new Promise<void>((resolve, reject) => {
      ws.onopen = () => resolve();
      ws.onerror = () => reject(new Error(`cannot connect to ${url}`));
    });
    client.ws = ws;
    return client;
  }

  /** Wraps a spawned `--listen stdio` executor. */
  static stdio(proc: Bun.Subprocess<"pipe", "pipe", any>): RawClient {
    const client = new RawClient(
      (t) => {
        proc.stdin.write(`${t}\n`);
        proc.stdin.flush();
      },
      () => proc.stdin.end(),
    );
    void (async () => {
      const decoder = new TextDecoder();
      let buf = "";
      for await (const chunk of proc.stdout) {
        buf += decoder.decode(chunk, { stream: true });
        let nl: number;
        while ((nl = buf.indexOf("\n")) !== -1) {
          client.onText(buf.slice(0, nl));
          buf = buf.slice(nl + 1);
        }
      }
      client.onClose(undefined);
    })();
    return client;
  }

  ws: WebSocket | undefined;

  private onText(text: string): void {
    this.texts.push(text);
    this.frames.push(JSON.parse(text));
    this.wake();
  }

  private onClose(code: number | undefined): void {
    this.closed = true;
    this.closeCode = code;
    this.wake();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  sendRaw(text: string): void {
    this.sendText(text);
  }

  send(msg: Frame): void {
    this.sendText(JSON.stringify(msg));
  }

  notify(method: string, params?: unknown): void {
    this.send(params === undefined ? { method } : { method, params });
  }

  /** Sends a request and returns its id. */
  request(method: string, params?: unknown, id: number | string = this.nextId++): number | string {
    this.send(params === undefined ? { id, method } : { id, method, params });
    return id;
  }

  /** Sends a request and waits for its response frame (result or error). */
  async call(method: string, params?: unknown, timeoutMs = DEFAULT_WAIT_MS): Promise<Frame> {
    const id = this.request(method, params);
    return this.waitFor((f) => f.id === id && ("result" in f || "error" in f), timeoutMs, `response to ${method}`);
  }

  /** Calls and returns the result, failing the test on an error response. */
  async ok(method: string, params?: unknown, timeoutMs = DEFAULT_WAIT_MS): Promise<any> {
    const frame = await this.call(method, params, timeoutMs);
    if (frame.error) throw new Error(`${method} failed: ${JSON.stringify(frame.error)}`);
    return frame.result;
  }

  async initialize(clientName = "test", resumeSessionId?: string): Promise<any> {
    const result = await this.ok("initialize", resumeSessionId ? { clientName, resumeSessionId } : { clientName });
    this.notify("initialized", {});
    return result;
  }

  /** Waits until some received frame matches, and returns it. */
  async waitFor(pred: (f: Frame) => boolean, timeoutMs = DEFAULT_WAIT_MS, what = "frame"): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.frames.find(pred);
      if (found) return found;
      if (this.closed) throw new Error(`connection closed while waiting for ${what}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  async waitClosed(timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error("timed out waiting for the connection to close");
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Notifications for one process, in seq order. */
  processEvents(processId: string): Frame[] {
    return this.frames
      .filter((f) => typeof f.method === "string" && f.method.startsWith("process/") && f.params?.processId === processId)
      .sort((a, b) => a.params.seq - b.params.seq);
  }

  /** Waits for `process/closed` of a process and returns all its events in seq order. */
  async processDone(processId: string, timeoutMs = DEFAULT_WAIT_MS): Promise<Frame[]> {
    await this.waitFor((f) => f.method === "process/closed" && f.params.processId === processId, timeoutMs, `${processId} closed`);
    return this.processEvents(processId);
  }

  /** Concatenated decoded output of a process from its notifications. */
  output(processId: string, stream?: string): Buffer {
    return Buffer.concat(
      this.processEvents(processId)
        .filter((f) => f.method === "process/output" && (!stream || f.params.stream === stream))
        .map((f) => Buffer.from(f.params.chunk, "base64")),
    );
  }

  close(): void {
    this.closer();
  }
}
