/**
 * The client's tunnels: opening them, routing their `tunnel/*` notifications
 * and binary frames, and failing them all when the connection drops (tunnels
 * belong to one).
 */
import type { ExecboxClient } from "./client.ts";
import { TunnelFrameKind, decodeTunnelFrame, encodeTunnelFrame } from "../protocol/tunnel-frame.ts";
import { RemoteTunnel, type TunnelHost } from "./tunnel.ts";
import { MAX_TUNNEL_CHUNK_BYTES } from "../tunnel/limits.ts";

type TunnelMethod = "tunnel/data" | "tunnel/eof" | "tunnel/closed" | "tunnel/written";

export type TunnelOpenOptions = {
  host?: string;
  port: number;
  /** Binary frames when the executor and the transport allow them [default: true]; false keeps the bytes base64 JSON. */
  binary?: boolean;
};

/** The binary path of the client's current connection. */
export type BinaryChannel = {
  /** The executor has tunnel version 2 and the transport carries binary messages. */
  available(): boolean;
  /** Sends one binary message; the bytes are copied before it returns (WHATWG WebSocket `send`), so the caller may reuse them. */
  send(bytes: Uint8Array): void;
};

export class ClientTunnels {
  private readonly tunnels = new Map<string, RemoteTunnel>();
  /**
   * Notifications that overtook their `tunnel/open` answer's continuation (a
   * stdio read delivers several messages at once); kept only while opens are
   * pending, and bounded by the tunnel's window.
   */
  private readonly early = new Map<string, [TunnelMethod, unknown][]>();
  private opening = 0;
  /** Where write frames are encoded: a chunk and the longest header. */
  private readonly frameScratch = new Uint8Array(MAX_TUNNEL_CHUNK_BYTES + 257);

  constructor(
    private readonly call: ExecboxClient["call"],
    private readonly binary: BinaryChannel,
  ) {}

  private readonly host: TunnelHost = {
    write: async (tunnelId, chunk, eof) => {
      const encoded = chunk ? { chunk: Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString("base64") } : {};
      await this.call("tunnel/write", { tunnelId, eof, ...encoded });
    },
    ack: async (tunnelId, bytes) => void (await this.call("tunnel/ack", { tunnelId, bytes })),
    close: async (tunnelId) => void (await this.call("tunnel/close", { tunnelId })),
    forget: (tunnelId) => this.tunnels.delete(tunnelId),
  };

  /**
   * A binary tunnel's bytes go as write frames (nothing to answer); its EOF is
   * still a `tunnel/write`. Once the tunnel is over, a write goes as
   * `tunnel/write` too, so it fails with the executor's error as on the JSON
   * path (a frame would be dropped without a word).
   */
  private readonly binaryHost: TunnelHost = {
    ...this.host,
    write: async (tunnelId, chunk, eof) => {
      if (!this.tunnels.has(tunnelId)) return this.host.write(tunnelId, chunk, eof);
      // One reused buffer: `send` copies the frame (it masks it into the WebSocket's own), so each write costs no allocation.
      if (chunk && chunk.byteLength > 0) this.binary.send(encodeTunnelFrame(TunnelFrameKind.write, tunnelId, chunk, this.frameScratch));
      if (eof) await this.host.write(tunnelId, undefined, true);
    },
  };

  async open(options: TunnelOpenOptions): Promise<RemoteTunnel> {
    const { binary = true, ...params } = options;
    const askBinary = binary && this.binary.available();
    this.opening++;
    let opened: { tunnelId: string; binary?: boolean };
    try {
      opened = await this.call("tunnel/open", askBinary ? { ...params, binary: true } : params);
    } finally {
      this.opening--;
    }
    const { tunnelId } = opened;
    const tunnel = opened.binary === true ? new RemoteTunnel(tunnelId, this.binaryHost, true) : new RemoteTunnel(tunnelId, this.host);
    this.tunnels.set(tunnelId, tunnel);
    for (const [method, p] of this.early.get(tunnelId) ?? []) tunnel.receive(method, p as never);
    this.early.delete(tunnelId);
    if (this.opening === 0) this.early.clear();
    return tunnel;
  }

  /** A validated `tunnel/*` notification, or a binary data frame's bytes as `tunnel/data`. */
  receive(method: TunnelMethod, params: { tunnelId: string }): void {
    const tunnel = this.tunnels.get(params.tunnelId);
    if (tunnel) return tunnel.receive(method, params as never);
    if (this.opening === 0) return;
    const list = this.early.get(params.tunnelId) ?? [];
    list.push([method, params]);
    this.early.set(params.tunnelId, list);
  }

  /** A binary tunnel frame from the executor; anything but a well-formed data frame is ignored, as an unparseable message is. */
  receiveFrame(bytes: Uint8Array): void {
    const frame = decodeTunnelFrame(bytes);
    if (frame.ok && frame.kind === TunnelFrameKind.data) this.receive("tunnel/data", { tunnelId: frame.tunnelId, bytes: frame.payload } as { tunnelId: string });
  }

  failAll(error: unknown): void {
    for (const tunnel of [...this.tunnels.values()]) tunnel.fail(error);
    this.early.clear();
  }
}
