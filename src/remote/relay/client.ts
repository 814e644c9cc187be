/**
 * Keeps the executor connected to its rendezvous (remote.md §3): dials the URL
 * the registry returned, re-dials the same URL with jittered exponential
 * backoff after every close or failed connect, and asks the owner to
 * re-register when the upgrade is answered with a 4xx (the URL has expired or
 * was revoked), then dials the URL that registration returns.
 *
 * @example
 *   const relay = new RelayClient({ url, handler: noiseStreams, reregister: async () => (await register()).url });
 *   relay.start();
 *   await relay.stop();
 */
import { type Clock, systemClock } from "../../server/clock.ts";
import { reconnectDelayMs } from "./backoff.ts";
import { RelayConnection } from "./connection.ts";
import {
  RELAY_CONNECT_TIMEOUT_MS,
  RELAY_MAX_FRAME_BYTES,
  RELAY_PING_INTERVAL_MS,
  RELAY_PONG_TIMEOUT_MS,
  RELAY_RECONNECT_BASE_MS,
  RELAY_RECONNECT_MAX_MS,
} from "./limits.ts";
import type { RelayStreamHandler } from "./streams.ts";
import { UpgradeRejectedError } from "./ws-client.ts";
import { componentLog } from "../../log/logger.ts";

/** What happens to the connection, for logs and tests. */
export type RelayClientEvent =
  | { type: "connected"; url: string }
  | { type: "disconnected"; why: string }
  | { type: "connect-failed"; url: string; error: Error }
  | { type: "retry"; attempt: number; delayMs: number }
  | { type: "reregister"; status: number };

export interface RelayClientOptions {
  /** The rendezvous URL from registration. */
  url: string;
  handler: RelayStreamHandler;
  /** Called when the upgrade is answered with HTTP `status` 4xx: re-register (same key) and return the new rendezvous URL. A rejection stops the client (`done` rejects). */
  reregister(status: number): Promise<string>;
  onEvent?(event: RelayClientEvent): void;
  log?(line: string): void;
  clock?: Clock;
  /** Jitter source in [0, 1). */
  random?(): number;
  pingIntervalMs?: number;
  pongTimeoutMs?: number;
  connectTimeoutMs?: number;
  reconnectBaseMs?: number;
  reconnectMaxMs?: number;
}

export class RelayClient {
  private url: string;
  private stopped = false;
  private current: RelayConnection | null = null;
  private wake: (() => void) | null = null;
  private loop: Promise<void> | null = null;

  constructor(private readonly opts: RelayClientOptions) {
    this.url = opts.url;
  }

  /** The live connection, if any (its stream table, queued bytes). */
  get connection(): RelayConnection | null {
    return this.current;
  }

  /** Starts the connect loop. `done` settles when it ends: after `stop`, or rejected when re-registration fails. */
  start(): Promise<void> {
    this.loop ??= this.run();
    return this.loop;
  }

  get done(): Promise<void> {
    return this.loop ?? Promise.resolve();
  }

  /** Closes the socket (every stream ends) and stops reconnecting. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.current?.drop("relay client stopped");
    this.wake?.();
    await this.loop?.catch(() => {});
  }

  private async run(): Promise<void> {
    const log = this.opts.log ?? componentLog("relay");
    const emit = (e: RelayClientEvent) => this.opts.onEvent?.(e);
    let failures = 0; // Attempts since the last connection that opened.
    while (!this.stopped) {
      try {
        this.current = await RelayConnection.open(this.url, this.opts.handler, this.socketOptions(), log);
      } catch (e) {
        const error = e as Error;
        emit({ type: "connect-failed", url: this.url, error });
        if (this.stopped) break;
        if (error instanceof UpgradeRejectedError && error.status >= 400 && error.status < 500) {
          // The first refusal re-registers at once; a new URL refused again waits like any retry, so a registry handing out bad URLs is not hammered.
          if (failures > 0 && !(await this.pause(failures - 1))) break;
          failures++;
          emit({ type: "reregister", status: error.status });
          this.url = await this.opts.reregister(error.status);
          continue;
        }
        log(`rendezvous connect failed: ${error.message}`);
        if (!(await this.pause(failures++))) break;
        continue;
      }
      failures = 0;
      emit({ type: "connected", url: this.url });
      if (this.stopped) this.current.drop("relay client stopped");
      const why = await this.current.closed;
      this.current = null;
      emit({ type: "disconnected", why });
      log(`rendezvous connection closed: ${why}`);
      if (this.stopped || !(await this.pause(failures++))) break;
    }
  }

  /** Waits the backoff for `attempt`; false if stopped meanwhile. */
  private async pause(attempt: number): Promise<boolean> {
    const delayMs = reconnectDelayMs(attempt, this.opts.random, this.opts.reconnectBaseMs ?? RELAY_RECONNECT_BASE_MS, this.opts.reconnectMaxMs ?? RELAY_RECONNECT_MAX_MS);
    this.opts.onEvent?.({ type: "retry", attempt, delayMs });
    const clock = this.opts.clock ?? systemClock;
    await new Promise<void>((resolve) => {
      const cancel = clock.after(delayMs, () => resolve());
      this.wake = () => {
        cancel();
        resolve();
      };
    });
    this.wake = null;
    return !this.stopped;
  }

  private socketOptions() {
    const o = this.opts;
    return {
      connectTimeoutMs: o.connectTimeoutMs ?? RELAY_CONNECT_TIMEOUT_MS,
      pingIntervalMs: o.pingIntervalMs ?? RELAY_PING_INTERVAL_MS,
      pongTimeoutMs: o.pongTimeoutMs ?? RELAY_PONG_TIMEOUT_MS,
      maxMessageBytes: RELAY_MAX_FRAME_BYTES,
      clock: o.clock ?? systemClock,
    };
  }
}
