/**
 * A connection's tunnels (`tunnel/open`, `tunnel/write`, `tunnel/ack`,
 * `tunnel/close`). They belong to the connection, as file handles and HTTP
 * streams do: when it closes they are closed, even if the session may be
 * resumed — a TCP stream cannot be replayed to a client that missed part of
 * it, so a resumed client opens new ones.
 */
import type { Socket } from "bun";
import { internalError, invalidRequest } from "../protocol/errors.ts";
import type { TunnelOpenParams } from "../protocol/messages/tunnel.ts";
import { tunnelAddress } from "./hosts.ts";
import { MAX_TUNNELS_PER_CONNECTION, TUNNEL_CONNECT_TIMEOUT_MS } from "./limits.ts";
import { Tunnel, type TunnelSink, socketErrorText } from "./tunnel.ts";

export class TunnelTable {
  private readonly tunnels = new Map<string, Tunnel>();
  /** Opens under way count towards the cap too. */
  private opening = 0;
  private closedAll = false;

  constructor(private readonly sink: TunnelSink) {}

  /** Connects to `host:port`; data starts flowing once `afterReply` runs (after the answer naming the tunnel). */
  async open(p: TunnelOpenParams, afterReply: (fn: () => void) => void): Promise<{ tunnelId: string }> {
    const address = tunnelAddress(p.host);
    if (this.tunnels.size + this.opening >= MAX_TUNNELS_PER_CONNECTION) {
      throw invalidRequest(`tunnel/open refused: this connection already has ${MAX_TUNNELS_PER_CONNECTION} open tunnels`);
    }
    const tunnel = new Tunnel(crypto.randomUUID(), this.sink, (t) => this.tunnels.delete(t.id));
    this.opening++;
    try {
      const connecting = Bun.connect<Tunnel>({ hostname: address, port: p.port, allowHalfOpen: true, data: tunnel, socket: Tunnel.handlers });
      tunnel.attach(await connectWithin(connecting, TUNNEL_CONNECT_TIMEOUT_MS));
    } catch (e) {
      const target = address.includes(":") ? `[${address}]:${p.port}` : `${address}:${p.port}`;
      throw internalError(`tunnel/open cannot connect to ${target}: ${socketErrorText(e)}`);
    } finally {
      this.opening--;
    }
    // The connection closed while connecting: nobody will use it.
    if (this.closedAll) tunnel.close("clientClosed", false);
    else this.tunnels.set(tunnel.id, tunnel);
    afterReply(() => tunnel.start());
    return { tunnelId: tunnel.id };
  }

  get(tunnelId: string): Tunnel {
    const tunnel = this.tunnels.get(tunnelId);
    if (!tunnel) throw invalidRequest(`unknown tunnel id ${tunnelId}`);
    return tunnel;
  }

  /** The connection is gone: close every tunnel without telling anyone. */
  closeAll(): void {
    this.closedAll = true;
    for (const tunnel of [...this.tunnels.values()]) tunnel.close("clientClosed", false);
  }

  get size(): number {
    return this.tunnels.size;
  }
}

/** The connect, or a timeout error after `ms` (a connect that completes later is closed, not leaked). */
async function connectWithin(connecting: Promise<Socket<Tunnel>>, ms: number): Promise<Socket<Tunnel>> {
  let timer: Timer | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`connect timed out after ${ms} ms`));
      void connecting.then((s) => s.terminate(), () => {});
    }, ms);
  });
  try {
    return await Promise.race([connecting, expired]);
  } finally {
    clearTimeout(timer);
  }
}
