/**
 * Remote mode, direct transport (remote.md §2.6, §7): registers with
 * `direct/register` (SigV4), then keeps one WebSocket to the returned URL,
 * upgrade SigV4-signed over `host;x-amz-date`, serving one JSON-RPC session
 * per socket. After a socket ends the same URL is dialled again after a
 * jittered delay; a 409 on the upgrade re-registers first; any other 4xx
 * but 408 and 429 ends the executor (exit 1); anything else is retried.
 *
 * @example
 *   const remote = await startDirect(exec, { baseUrl, environmentId, registrationBearerStdin: false, aws: {} }, { env: process.env, stdin });
 *   await remote.done; // rejects on a fatal refusal or a failed re-registration
 */
import type { ExecServer } from "../server/exec-server.ts";
import { DirectSession } from "./direct-session.ts";
import { registryAuthFor } from "./registry-credentials.ts";
import { RegistryError } from "./registry-error.ts";
import { type RegistryTarget, directRegister, isLoopbackHost } from "./registry.ts";
import { reconnectDelayMs } from "./relay/backoff.ts";
import { UpgradeRejectedError } from "./relay/ws-client.ts";
import type { RemoteDeps, RemoteServeOptions, RemoteServer } from "./serve-remote.ts";
import { type SigV4Scope, signV4 } from "./sigv4.ts";
import { componentLog } from "../log/logger.ts";

/** Registers (a failure is thrown: exit 1), then serves direct sessions in the background. */
export async function startDirect(exec: ExecServer, options: RemoteServeOptions, deps: RemoteDeps): Promise<RemoteServer> {
  const log = deps.log ?? componentLog("remote");
  checkRegistryScheme(options.baseUrl);
  const auth = await registryAuthFor(options, deps.env, deps.stdin);
  if (auth.kind !== "sigv4") throw new RegistryError("config", "--remote-transport direct requires --aws-sigv4");
  const target: RegistryTarget = { baseUrl: options.baseUrl, environmentId: options.environmentId, auth };
  const register = async (): Promise<string> => {
    const answer = await directRegister(target);
    log(`registered environment ${answer.environment_id} for the direct transport (registration ${answer.registration_id})`);
    return answer.url;
  };
  const client = new DirectClient(exec, await register(), auth.scope, register, log);
  return { done: client.run(), stop: () => client.stop() };
}

/** The base URL must be https unless its host is loopback (§2.1); nothing is sent otherwise. */
function checkRegistryScheme(baseUrl: string): void {
  let url: URL;
  try {
    url = new URL(baseUrl.trim());
  } catch {
    return; // directRegister reports a malformed URL with the reference's text.
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && isLoopbackHost(url.hostname))) {
    throw new RegistryError("config", "direct exec-server registry url must use https unless its host is loopback");
  }
}

/** An upgrade refusal that retrying cannot cure: 4xx but 408 (timeout), 409 (re-register) and 429 (slow down). */
export function isFatalUpgradeStatus(status: number): boolean {
  return status >= 400 && status < 500 && status !== 408 && status !== 409 && status !== 429;
}

/** The SigV4 headers of a WebSocket upgrade to `url`: a GET with no body, signed over `host;x-amz-date`. */
export function signedUpgradeHeaders(url: string, scope: SigV4Scope, now: Date): Record<string, string> {
  return signV4({ method: "GET", url: new URL(url), headers: {}, body: "" }, scope, now);
}

class DirectClient {
  private stopped = false;
  private readonly stopping = Promise.withResolvers<void>();
  private current: DirectSession | null = null;

  constructor(
    private readonly exec: ExecServer,
    private url: string,
    private readonly scope: SigV4Scope,
    private readonly reregister: () => Promise<string>,
    private readonly log: (line: string) => void,
  ) {}

  /** Serves until `stop`; rejects (exit 1) on a fatal refusal or a failed re-registration. */
  async run(): Promise<void> {
    let failures = 0; // Attempts since the last socket that opened.
    while (!this.stopped) {
      let session: DirectSession;
      try {
        session = await DirectSession.open(this.exec, this.url, signedUpgradeHeaders(this.url, this.scope, new Date()));
      } catch (e) {
        if (this.stopped) break;
        const status = e instanceof UpgradeRejectedError ? e.status : undefined;
        if (status !== undefined && isFatalUpgradeStatus(status)) {
          throw new RegistryError("http", `direct exec-server refused the WebSocket upgrade with HTTP ${status}; not retrying`, status);
        }
        if (status === 409) {
          // A URL refused again right after re-registering waits like any retry, so the registry is not hammered.
          if (failures > 0 && !(await this.pause(failures - 1))) break;
          failures++;
          this.log("direct exec-server refused the connection (HTTP 409); registering again");
          this.url = await this.reregister();
          continue;
        }
        this.log(`direct connect failed: ${(e as Error).message}`);
        if (!(await this.pause(failures++))) break;
        continue;
      }
      failures = 0;
      this.current = session;
      this.log("direct connection opened");
      if (this.stopped) session.close("executor stopping");
      const why = await session.closed;
      this.current = null;
      this.log(`direct connection closed: ${why}`);
      if (!(await this.pause(failures++))) break;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stopping.resolve();
    this.current?.close("executor stopping");
  }

  /** Waits the jittered backoff for `attempt`; false if stopped meanwhile. */
  private async pause(attempt: number): Promise<boolean> {
    const delayMs = reconnectDelayMs(attempt);
    this.log(`direct reconnecting in ${delayMs} ms`);
    await Promise.race([Bun.sleep(delayMs), this.stopping.promise]);
    return !this.stopped;
  }
}
