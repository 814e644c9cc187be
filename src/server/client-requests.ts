/**
 * Requests the server sends to the client (today only `network/policyRequest`,
 * src/network/decider.ts), owned by one connection: ids count from 1 per
 * connection, as the reference's do; each waits at most its timeout; what
 * cannot get an answer (the connection closed, too many waiting, the caller
 * gave up) settles at once as a failure, and callers treat every failure as
 * a refusal (fail closed).
 */
import { type RequestId } from "../protocol/envelope.ts";
import { MAX_PENDING_CLIENT_REQUESTS } from "./limits.ts";

/** Why a request got no result: the client's error answer, or it never answered in time, or could not be asked. */
export type ClientRequestFailure = "error" | "timeout" | "closed" | "full" | "cancelled" | "detached";

export type ClientAnswer = { ok: true; result: unknown } | { ok: false; failure: ClientRequestFailure };

/** A response from the client, as the envelope parsed it: `result` wins when both are present (as the reference's parser). */
export type ClientResponse = { id: RequestId | undefined; result?: unknown; hasResult: boolean };

/**
 * setTimeout's longest delay; a longer one fires at once (Bun, as Node: "does
 * not fit into a 32-bit signed integer. Timeout duration was set to 1"). A
 * timeout the client asked for (a u64 of milliseconds) is cut to this (24.8 days).
 */
const LONGEST_TIMER_MS = 2 ** 31 - 1;

/** The delay to give setTimeout for a request's timeout. */
export function timerDelay(timeoutMs: number): number {
  return Math.min(Math.max(timeoutMs, 0), LONGEST_TIMER_MS);
}

type Pending = { settle: (answer: ClientAnswer) => void };

export class ClientRequests {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closed = false;

  constructor(
    private readonly send: (frame: string) => void,
    private readonly maxPending = MAX_PENDING_CLIENT_REQUESTS,
  ) {}

  /** Sends `method` and waits for its answer; never rejects. `signal`: the caller no longer needs it. */
  ask(method: string, params: unknown, timeoutMs: number, signal?: AbortSignal): Promise<ClientAnswer> {
    if (this.closed) return Promise.resolve({ ok: false, failure: "closed" });
    if (signal?.aborted) return Promise.resolve({ ok: false, failure: "cancelled" });
    if (this.pending.size >= this.maxPending) return Promise.resolve({ ok: false, failure: "full" });
    const id = this.nextId++;
    return new Promise<ClientAnswer>((resolve) => {
      const timer = setTimeout(() => settle({ ok: false, failure: "timeout" }), timerDelay(timeoutMs));
      const onAbort = () => settle({ ok: false, failure: "cancelled" });
      const settle = (answer: ClientAnswer) => {
        if (!this.pending.delete(id)) return;
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        resolve(answer);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.pending.set(id, { settle });
      this.send(`{"id":${id},"method":${JSON.stringify(method)},"params":${JSON.stringify(params)}}`);
    });
  }

  /**
   * A response from the client. False when its id is none this connection
   * ever sent (a protocol violation, which drops the connection, as with the
   * reference); an answer that comes after its request timed out or was
   * answered is ignored, as the reference ignores it.
   */
  complete(response: ClientResponse): boolean {
    const id = response.id && /^[1-9][0-9]{0,15}$/.test(response.id.json) ? Number(response.id.json) : 0;
    if (id === 0 || id >= this.nextId) return false;
    this.pending.get(id)?.settle(response.hasResult ? { ok: true, result: response.result } : { ok: false, failure: "error" });
    return true;
  }

  /** The connection is gone: every waiting request fails now, and later ones at once. */
  closeAll(): void {
    this.closed = true;
    for (const p of [...this.pending.values()]) p.settle({ ok: false, failure: "closed" });
  }

  /** Requests waiting for an answer, for tests and metrics. */
  get size(): number {
    return this.pending.size;
  }
}
