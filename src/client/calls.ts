/**
 * Requests in flight: ids, the pending map, per-call timeouts, result
 * validation, and what happens to each call when its connection drops.
 * Calls outlive connections so a read can be re-sent after a reconnect.
 */
import { type MethodName, Methods, NO_PARAMS } from "../protocol/methods.ts";
import { ExecboxConnectionError, ExecboxProtocolError, ExecboxTimeoutError, rpcError } from "./errors.ts";
import type { Channel } from "./transport.ts";

/** A call without an answer after this long rejects with ExecboxTimeoutError. */
export const CALL_TIMEOUT_MS = 60_000;

/**
 * Bytes a channel may hold unsent (its `queuedBytes`: framed, sealed
 * ciphertext the relay socket has not taken) before further calls wait,
 * unsent and unencrypted, for it to drain. A caller that fires calls faster
 * than the relay drains then holds only its own requests, not a second,
 * growing copy of them in ciphertext. A call is admitted whole, so the queue
 * peaks at this plus one message. 1 MiB is the executor's own relay bound
 * (RELAY_SEND_HIGH_WATER_BYTES) and ≥ 16 full 60 KiB records in flight, so
 * a fast relay is never idle waiting for us. No error: calls just go out
 * later (their timeout runs from the send).
 */
export const SEND_HIGH_WATER_BYTES = 1024 * 1024;

/**
 * Re-sent after a reconnect when the drop caught them in flight: they only
 * read, or (`process/write`) the executor dedupes them by `writeId`, which the
 * re-sent request carries unchanged. Connection-scoped reads (`fs/readBlock`
 * on a handle, streamed HTTP) cannot be retried: their handle died with the
 * connection. Everything else may have taken effect and is rejected.
 */
export const RETRIED_ON_RECONNECT: ReadonlySet<MethodName> = new Set<MethodName>([
  "environment/info",
  "environment/status",
  "capabilities/discoverV2",
  "capabilityRoots/discoverV1",
  "environmentConfig/read",
  "process/read",
  "process/write",
  // Sets an absolute size: sending it twice is the same as once.
  "process/resizePty",
  "process/list",
  "fs/readFile",
  "fs/getMetadata",
  "fs/readDirectory",
  "fs/canonicalize",
  "fs/walk",
]);

type Call = {
  readonly id: number;
  readonly method: MethodName;
  readonly frame: string;
  readonly timeoutMs: number;
  /** Bound to one connection (initialize, catch-up reads): never queued or re-sent. */
  readonly pinned: boolean;
  sentOn: Channel | null;
  timer: ReturnType<typeof setTimeout> | undefined;
  resolve(value: unknown): void;
  reject(error: unknown): void;
};

export class PendingCalls {
  private nextId = 1;
  private readonly calls = new Map<number, Call>();
  /** Unpinned calls not sent on the current channel (none yet, congested, or re-queued after a drop), oldest first. */
  private unsent = new Set<Call>();

  /** Registers a call and returns its promise; it is sent by `send` or `flush`. */
  add(method: MethodName, params: unknown, timeoutMs: number, pinned: boolean): { call: Call; promise: Promise<unknown> } {
    const id = this.nextId++;
    const omitParams = params === undefined && Methods[method].params === NO_PARAMS;
    const frame = JSON.stringify(omitParams ? { id, method } : { id, method, params: params ?? null });
    let call!: Call;
    const promise = new Promise<unknown>((resolve, reject) => {
      call = { id, method, frame, timeoutMs, pinned, sentOn: null, timer: undefined, resolve, reject };
    });
    this.calls.set(id, call);
    if (!pinned) this.unsent.add(call);
    return { call, promise };
  }

  /** Sends (or re-sends) a call on a channel; the timeout runs from each send. */
  send(call: Call, channel: Channel): void {
    if (!this.calls.has(call.id)) return;
    try {
      channel.send(call.frame);
    } catch {
      // The channel just closed; its close handler decides the call's fate.
      return;
    }
    call.sentOn = channel;
    this.unsent.delete(call);
    clearTimeout(call.timer);
    call.timer = setTimeout(() => {
      if (this.calls.delete(call.id)) call.reject(new ExecboxTimeoutError(call.method, call.timeoutMs));
    }, call.timeoutMs);
  }

  /** Sends queued calls, oldest first, until the channel holds more than SEND_HIGH_WATER_BYTES (the rest wait for `drained`). */
  flush(channel: Channel): void {
    for (const call of this.unsent) {
      if ((channel.queuedBytes ?? 0) > SEND_HIGH_WATER_BYTES || channel.closed) return;
      this.send(call, channel);
    }
  }

  /** Calls not sent yet: waiting for a connection, or for a congested one to drain. */
  get waiting(): number {
    return this.unsent.size;
  }

  /** Settles the call a response frame answers; false if no such call waits. */
  answer(msg: { id?: unknown; result?: unknown; error?: { code?: unknown; message?: unknown; data?: unknown } }): boolean {
    const call = typeof msg.id === "number" ? this.calls.get(msg.id) : undefined;
    if (!call) return false;
    this.calls.delete(call.id);
    clearTimeout(call.timer);
    if (msg.error !== undefined) {
      call.reject(rpcError(call.method, msg.error ?? {}));
      return true;
    }
    const parsed = Methods[call.method].result.safeParse(msg.result);
    if (parsed.success) call.resolve(parsed.data);
    else call.reject(new ExecboxProtocolError(`${call.method}: unexpected result: ${parsed.error.message}`));
    return true;
  }

  /**
   * A connection dropped. Calls sent on it are re-queued if retrying is safe,
   * else rejected (they may have been applied). Queued calls stay queued.
   */
  dropped(channel: Channel, resumable: boolean): void {
    const retried: Call[] = [];
    for (const call of [...this.calls.values()]) {
      if (call.sentOn !== channel && !call.pinned) continue;
      clearTimeout(call.timer);
      if (resumable && !call.pinned && RETRIED_ON_RECONNECT.has(call.method)) {
        call.sentOn = null;
        retried.push(call);
        continue;
      }
      this.calls.delete(call.id);
      const applied = call.sentOn === channel;
      call.reject(
        new ExecboxConnectionError(
          applied
            ? `connection lost while ${call.method} was in flight; it may or may not have been applied`
            : `connection lost before ${call.method} was sent`,
          call.method,
          applied,
        ),
      );
    }
    // Re-sent in id order with those still waiting: a process's stdin writes must not overtake each other.
    if (retried.length > 0) this.unsent = new Set([...retried, ...this.unsent].sort((a, b) => a.id - b.id));
  }

  /** Rejects every call (client closed or failed); `sent`: it had gone out, so it may have been applied. */
  rejectAll(error: (method: string, sent: boolean) => Error): void {
    for (const call of this.calls.values()) {
      clearTimeout(call.timer);
      call.reject(error(call.method, call.sentOn !== null));
    }
    this.calls.clear();
    this.unsent.clear();
  }
}
