/**
 * The client's tunnels: opening them, routing their `tunnel/*` notifications,
 * and failing them all when the connection drops (tunnels belong to one).
 */
import type { ExecboxClient } from "./client.ts";
import { RemoteTunnel, type TunnelHost } from "./tunnel.ts";


type TunnelMethod = "tunnel/data" | "tunnel/eof" | "tunnel/closed" | "tunnel/written";

export class ClientTunnels {
  private readonly tunnels = new Map<string, RemoteTunnel>();
  /**
   * Notifications that overtook their `tunnel/open` answer's continuation (a
   * stdio read delivers several messages at once); kept only while opens are
   * pending, and bounded by the tunnel's window.
   */
  private readonly early = new Map<string, [TunnelMethod, unknown][]>();
  private opening = 0;

  constructor(private readonly call: ExecboxClient["call"]) {}

  private readonly host: TunnelHost = {
    write: async (tunnelId, chunk, eof) => {
      const encoded = chunk ? { chunk: Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString("base64") } : {};
      await this.call("tunnel/write", { tunnelId, eof, ...encoded });
    },
    ack: async (tunnelId, bytes) => void (await this.call("tunnel/ack", { tunnelId, bytes })),
    close: async (tunnelId) => void (await this.call("tunnel/close", { tunnelId })),
    forget: (tunnelId) => this.tunnels.delete(tunnelId),
  };

  async open(params: { host?: string; port: number }): Promise<RemoteTunnel> {
    this.opening++;
    let tunnelId: string;
    try {
      tunnelId = (await this.call("tunnel/open", params)).tunnelId;
    } finally {
      this.opening--;
    }
    const tunnel = new RemoteTunnel(tunnelId, this.host);
    this.tunnels.set(tunnelId, tunnel);
    for (const [method, p] of this.early.get(tunnelId) ?? []) tunnel.receive(method, p as never);
    this.early.delete(tunnelId);
    if (this.opening === 0) this.early.clear();
    return tunnel;
  }

  /** A validated `tunnel/*` notification. */
  receive(method: TunnelMethod, params: { tunnelId: string }): void {
    const tunnel = this.tunnels.get(params.tunnelId);
    if (tunnel) return tunnel.receive(method, params as never);
    if (this.opening === 0) return;
    const list = this.early.get(params.tunnelId) ?? [];
    list.push([method, params]);
    this.early.set(params.tunnelId, list);
  }

  failAll(error: unknown): void {
    for (const tunnel of [...this.tunnels.values()]) tunnel.fail(error);
    this.early.clear();
  }
}
