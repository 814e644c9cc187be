/**
 * A single-consumer async iterator fed by push(). Process output and HTTP
 * bodies arrive as network events, independent of how fast the consumer
 * iterates, so values are buffered until taken; `fail()` makes the next
 * `next()` throw once the buffered values are drained.
 */
export class AsyncQueue<T> implements AsyncIterableIterator<T> {
  private readonly buffer: T[] = [];
  private head = 0;
  private waiter: { resolve(r: IteratorResult<T>): void; reject(e: unknown): void } | null = null;
  private ended = false;
  private error: unknown = undefined;
  private failed = false;
  private iterating = false;

  /** @param onReturn called once when the consumer stops early (`break`, `return()`). */
  constructor(private readonly onReturn: () => void = () => {}) {}

  get done(): boolean {
    return this.ended || this.failed;
  }

  push(value: T): void {
    if (this.done) return;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w.resolve({ value, done: false });
      return;
    }
    this.buffer.push(value);
  }

  end(): void {
    if (this.done) return;
    this.ended = true;
    this.wake();
  }

  fail(error: unknown): void {
    if (this.done) return;
    this.failed = true;
    this.error = error;
    this.wake();
  }

  next(): Promise<IteratorResult<T>> {
    if (this.head < this.buffer.length) {
      const value = this.buffer[this.head]!;
      this.buffer[this.head++] = undefined as T;
      // Compact so a long stream does not keep every consumed slot.
      if (this.head > 1024 && this.head * 2 > this.buffer.length) {
        this.buffer.splice(0, this.head);
        this.head = 0;
      }
      return Promise.resolve({ value, done: false });
    }
    if (this.failed) return Promise.reject(this.error);
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
  }

  return(): Promise<IteratorResult<T>> {
    const wasDone = this.done;
    this.ended = true;
    this.buffer.length = 0;
    this.head = 0;
    this.wake();
    if (!wasDone) this.onReturn();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    // Two consumers would each see an arbitrary half of the events.
    if (this.iterating) throw new Error("this stream is already being iterated");
    this.iterating = true;
    return this;
  }

  private wake(): void {
    const w = this.waiter;
    if (!w || this.head < this.buffer.length) return;
    this.waiter = null;
    if (this.failed) w.reject(this.error);
    else w.resolve({ value: undefined, done: true });
  }
}
