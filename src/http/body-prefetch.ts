/**
 * Reads a response body ahead of the client, a bounded amount. A web
 * ReadableStream that errors discards the chunks still in its queue (the
 * Streams spec's "reset queue"), so a body read only when the client is
 * ready lost what the server had sent before failing — seen as an empty
 * stream followed by an error. Here a read is always pending while little
 * is buffered, so what arrived is ours before any error, and the error is
 * reported after it.
 */

/**
 * Bytes read ahead of the client. Enough that a body which fails right after
 * its data keeps that data; small, so a client that does not read cannot make
 * the executor hold a large body (beyond it, reading waits for the client).
 */
export const BODY_READ_AHEAD_BYTES = 1024 * 1024;

export class BodyPrefetch {
  private readonly queue: Uint8Array[] = [];
  private queued = 0;
  private ended = false;
  private failure: { error: unknown } | null = null;
  private wakeReader: (() => void) | null = null;
  private wakeConsumer: (() => void) | null = null;

  constructor(stream: ReadableStream<Uint8Array> | null, signal: AbortSignal) {
    void this.run(stream, signal);
  }

  /** The next chunk in order, or null at the end; throws the body's error once the chunks before it are taken. */
  async next(): Promise<Uint8Array | null> {
    for (;;) {
      const chunk = this.queue.shift();
      if (chunk) {
        this.queued -= chunk.byteLength;
        this.wake("reader");
        return chunk;
      }
      if (this.ended) {
        if (this.failure) throw this.failure.error;
        return null;
      }
      await new Promise<void>((r) => (this.wakeConsumer = r));
    }
  }

  private async run(stream: ReadableStream<Uint8Array> | null, signal: AbortSignal): Promise<void> {
    try {
      if (!stream) return;
      const reader = stream.getReader();
      signal.addEventListener("abort", () => void reader.cancel().catch(() => undefined));
      for (;;) {
        while (this.queued >= BODY_READ_AHEAD_BYTES) await new Promise<void>((r) => (this.wakeReader = r));
        const { done, value } = await reader.read();
        if (done || signal.aborted) return;
        this.queue.push(value);
        this.queued += value.byteLength;
        this.wake("consumer");
      }
    } catch (error) {
      this.failure = { error };
    } finally {
      this.ended = true;
      this.wake("consumer");
    }
  }

  private wake(who: "reader" | "consumer"): void {
    const fn = who === "reader" ? this.wakeReader : this.wakeConsumer;
    if (who === "reader") this.wakeReader = null;
    else this.wakeConsumer = null;
    fn?.();
  }
}
