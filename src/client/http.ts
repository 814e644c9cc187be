/**
 * `http/request` through the executor. A streamed response's body arrives as
 * `http/request/bodyDelta` notifications numbered from 1; they are put back in
 * seq order and end at the `done` frame (which throws if it carries `error`).
 */
import type { NotificationParams, ResultOf } from "../protocol/methods.ts";
import { AsyncQueue } from "./async-queue.ts";
import { ExecboxHttpBodyError } from "./errors.ts";
import { SeqOrder } from "./seq-order.ts";
import type { CallParams } from "./types.ts";

type Delta = NotificationParams<"http/request/bodyDelta">;

/** `http/request` params; `requestId` is generated when omitted. */
export type HttpRequestParams = Omit<CallParams<"http/request">, "requestId"> & { requestId?: string };

export type HttpResult = {
  status: number;
  headers: { name: string; value: string }[];
  /** The body: one block for a buffered response, the deltas in order for a streamed one. */
  body: AsyncIterable<Uint8Array>;
  /** Reads the whole body (consumes `body`). */
  bytes(): Promise<Uint8Array>;
  text(): Promise<string>;
};

/** The body of one streamed response, fed by the client's notification router. */
export class HttpBodyStream {
  readonly queue: AsyncQueue<Uint8Array>;
  private readonly order = new SeqOrder<Delta>((d) => this.deliver(d));

  constructor(
    readonly requestId: string,
    private readonly forget: (stream: HttpBodyStream) => void,
  ) {
    // A consumer that stops early gets no more deltas; the executor's stream runs out on its own.
    this.queue = new AsyncQueue<Uint8Array>(() => this.forget(this));
  }

  receive(delta: Delta): void {
    this.order.push(delta);
  }

  fail(error: unknown): void {
    this.queue.fail(error);
    this.forget(this);
  }

  private deliver(d: Delta): void {
    if (d.deltaBase64 !== "") this.queue.push(Buffer.from(d.deltaBase64, "base64"));
    if (!d.done) return;
    if (d.error !== null) this.queue.fail(new ExecboxHttpBodyError(d.error, this.requestId));
    else this.queue.end();
    this.forget(this);
  }
}

export function httpResult(response: ResultOf<"http/request">, body: AsyncIterable<Uint8Array>): HttpResult {
  const bytes = async () => {
    const parts: Uint8Array[] = [];
    for await (const part of body) parts.push(part);
    return Buffer.concat(parts);
  };
  return {
    status: response.status,
    headers: response.headers,
    body,
    bytes,
    text: async () => new TextDecoder().decode(await bytes()),
  };
}

/** A buffered response's body as a one-block iterable. */
export function bufferedBody(bodyBase64: string): AsyncIterable<Uint8Array> {
  const data: Uint8Array = Buffer.from(bodyBase64, "base64");
  return {
    async *[Symbol.asyncIterator]() {
      if (data.byteLength > 0) yield data;
    },
  };
}
