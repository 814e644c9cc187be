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
import {
  MAX_TUNNEL_CHUNK_BYTES,
  MAX_TUNNELS_PER_CONNECTION,
  REMEMBERED_CLOSED_TUNNELS,
  TUNNEL_CONNECT_TIMEOUT_MS,
  TUNNEL_UNWRITTEN_BYTES_PER_CONNECTION,
} from "./limits.ts";
import { type TunnelFrameRefusal, TunnelFrameClose, TunnelFrameKind, decodeTunnelFrame } from "../protocol/tunnel-frame.ts";
import { Tunnel, type TunnelSink, socketErrorText } from "./tunnel.ts";

export class TunnelTable {
  private readonly tunnels = new Map<string, Tunnel>();
  /** Opens under way count towards the cap too. */
  private opening = 0;
  private closedAll = false;
  /**
   * A tunnel was opened with binary frames: only then are binary tunnel
   * frames taken; before, a binary message is JSON, as the reference reads it.
   */
  private binaryOpened = false;
  /** Bytes all tunnels hold for ports that have not taken them (bounded by TUNNEL_UNWRITTEN_BYTES_PER_CONNECTION). */
  private unwritten = 0;
  /** Ids of recently closed tunnels, oldest first (insertion order), at most REMEMBERED_CLOSED_TUNNELS. */
  private readonly recentlyClosed = new Set<string>();

  constructor(private readonly sink: TunnelSink) {}

  /** Connects to `host:port`; data starts flowing once `afterReply` runs (after the answer naming the tunnel). */
  async open(p: TunnelOpenParams, afterReply: (fn: () => void) => void): Promise<{ tunnelId: string; binary?: boolean }> {
    const address = tunnelAddress(p.host);
    if (this.tunnels.size + this.opening >= MAX_TUNNELS_PER_CONNECTION) {
      throw invalidRequest(`tunnel/open refused: this connection already has ${MAX_TUNNELS_PER_CONNECTION} open tunnels`);
    }
    const binary = p.binary === true && this.sink.carriesBinary;
    const tunnel = new Tunnel(crypto.randomUUID(), this.sink, (t) => this.forget(t.id), (delta) => this.unwrittenChanged(delta), binary);
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
    if (binary) this.binaryOpened = true;
    return { tunnelId: tunnel.id, ...(p.binary === undefined ? {} : { binary }) };
  }

  /**
   * A binary tunnel frame from the client: its payload is written to the
   * tunnel's port. A refusal (the frame breaks the framing rules) closes the
   * connection; a frame for a tunnel that closed meanwhile is dropped.
   */
  receiveFrame(message: Uint8Array): TunnelFrameRefusal | undefined {
    const frame = decodeTunnelFrame(message);
    if (!frame.ok) return { code: TunnelFrameClose.malformed, reason: frame.error };
    if (frame.kind !== TunnelFrameKind.write) return { code: TunnelFrameClose.malformed, reason: "binary tunnel frame of kind data (0x02): clients send write (0x01)" };
    const length = frame.payload.byteLength;
    if (length > MAX_TUNNEL_CHUNK_BYTES) return { code: TunnelFrameClose.tooBig, reason: `binary tunnel frame of ${length} bytes exceeds ${MAX_TUNNEL_CHUNK_BYTES}` };
    const tunnel = this.tunnels.get(frame.tunnelId);
    const shown = frame.tunnelId.length > 40 ? `${frame.tunnelId.slice(0, 40)}…` : frame.tunnelId;
    if (!tunnel) return this.recentlyClosed.has(frame.tunnelId) ? undefined : { code: TunnelFrameClose.notAllowed, reason: `binary tunnel frame for unknown tunnel ${shown}` };
    if (!tunnel.binary) return { code: TunnelFrameClose.notAllowed, reason: `binary tunnel frame for tunnel ${shown}, not opened with binary: true` };
    tunnel.writeFrame(frame.payload);
    return undefined;
  }

  /** Whether binary messages that look like tunnel frames are read as such (`receiveFrame`). */
  get takesFrames(): boolean {
    return this.binaryOpened;
  }

  /** Past the connection's share, reading the client stops, so it cannot pile up more; it resumes under half. */
  private unwrittenChanged(delta: number): void {
    this.unwritten += delta;
    if (this.unwritten > TUNNEL_UNWRITTEN_BYTES_PER_CONNECTION) this.sink.holdReading(true);
    else if (this.unwritten <= TUNNEL_UNWRITTEN_BYTES_PER_CONNECTION / 2) this.sink.holdReading(false);
  }

  private forget(tunnelId: string): void {
    this.tunnels.delete(tunnelId);
    this.recentlyClosed.add(tunnelId);
    if (this.recentlyClosed.size > REMEMBERED_CLOSED_TUNNELS) this.recentlyClosed.delete(this.recentlyClosed.values().next().value!);
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
