/**
 * A deliberately thin JSON-RPC client over Bun's WebSocket (or any channel
 * that moves whole messages as text, e.g. a Noise stream). Small frames are
 * JSON.parse'd; a `raw` hook sees every frame first so the throughput test can
 * pick `process/output` frames apart with indexOf instead of parsing 10–90 KB
 * of JSON per frame.
 */
import type { Connector } from "../src/client/transport.ts";

export type Notification = { method: string; params: Record<string, unknown> };

type Wire = { send(text: string): void; close(): void };

type Pending = { resolve(v: unknown): void; reject(e: Error): void; raw: boolean };

export class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

export class BenchClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closedError: Error | null = null;
  /** Return true to consume the frame (skips JSON parsing). */
  raw: ((text: string) => boolean) | null = null;
  onNotification: (n: Notification) => void = () => {};

  private wire!: Wire;

  private constructor() {}

  private static over(ws: WebSocket): BenchClient {
    const client = new BenchClient();
    client.wire = { send: (text) => ws.send(text), close: () => ((ws.onclose = null), ws.close()) };
    ws.onmessage = (ev: MessageEvent) => client.frame(typeof ev.data === "string" ? ev.data : Buffer.from(ev.data as ArrayBuffer).toString("utf8"));
    ws.onclose = (ev: CloseEvent) => client.fail(new Error(`websocket closed (${ev.code})`));
    return client;
  }

  /** Opens one channel of `connector` (e.g. a Noise stream through a rendezvous); `initialize` is still to do. */
  static async open(connector: Connector): Promise<BenchClient> {
    const client = new BenchClient();
    const channel = await connector.open({ message: (text) => client.frame(text), closed: (why) => client.fail(new Error(`channel closed: ${why}`)) });
    client.wire = { send: (text) => channel.send(text), close: () => void channel.close() };
    return client;
  }

  /** Opens the socket; rejects on error or timeout. */
  static connect(url: string, timeoutMs = 10_000): Promise<BenchClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      const timer = setTimeout(() => {
        ws.close();
        reject(new Error(`connect to ${url} timed out`));
      }, timeoutMs);
      ws.onopen = () => {
        clearTimeout(timer);
        resolve(BenchClient.over(ws));
      };
      ws.onerror = () => {
        clearTimeout(timer);
        reject(new Error(`connect to ${url} failed`));
      };
    });
  }

  /** `initialize` + `initialized`; returns the initialize result. */
  async handshake(clientName = "bench"): Promise<unknown> {
    const result = await this.request("initialize", { clientName });
    this.notify("initialized", {});
    return result;
  }

  request(method: string, params: unknown): Promise<unknown> {
    return this.send(method, params, false);
  }

  /**
   * Like `request`, but a successful response resolves with its frame text,
   * unparsed (for multi-MB results; both servers put `"id"` first in them).
   */
  requestText(method: string, params: unknown): Promise<string> {
    return this.send(method, params, true) as Promise<string>;
  }

  private send(method: string, params: unknown, raw: boolean): Promise<unknown> {
    if (this.closedError) return Promise.reject(this.closedError);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, raw });
      this.wire.send(`{"id":${id},"method":${JSON.stringify(method)},"params":${JSON.stringify(params)}}`);
    });
  }

  notify(method: string, params: unknown): void {
    this.wire.send(`{"method":${JSON.stringify(method)},"params":${JSON.stringify(params)}}`);
  }

  close(): void {
    this.fail(new Error("client closed"));
    this.wire.close();
  }

  private frame(text: string): void {
    if (this.raw?.(text)) return;
    if (text.startsWith('{"id":')) {
      const id = Number.parseInt(text.slice(6, 26), 10);
      const p = this.pending.get(id);
      if (p?.raw && text.startsWith(`{"id":${id},"result":`)) {
        this.pending.delete(id);
        p.resolve(text);
        return;
      }
    }
    const msg = JSON.parse(text) as {
      id?: number;
      method?: string;
      params?: Record<string, unknown>;
      result?: unknown;
      error?: { code: number; message: string };
    };
    if (msg.method !== undefined) {
      this.onNotification({ method: msg.method, params: msg.params ?? {} });
      return;
    }
    if (typeof msg.id !== "number") return;
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    if (msg.error) p.reject(new RpcError(msg.error.code, msg.error.message));
    else p.resolve(msg.result);
  }

  private fail(e: Error): void {
    if (this.closedError) return;
    this.closedError = e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }
}
