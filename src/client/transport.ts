/**
 * What the client needs from a transport: a channel that moves whole JSON-RPC
 * messages as text, and a connector that can open one (again, for a resumable
 * transport). The client owns everything above framing.
 */
export interface Channel {
  /** True once the channel is closed, by either side; sends then throw. */
  readonly closed: boolean;
  /**
   * Bytes handed to `send` that the network has not taken yet, where the
   * transport can tell (a Noise stream's relay socket). The client holds
   * further calls while this exceeds SEND_HIGH_WATER_BYTES and sends them on
   * `drained`. Absent: the transport buffers without a bound (the WHATWG
   * WebSocket has no drain event; a pipe's writes are the child's problem).
   */
  readonly queuedBytes?: number;
  send(text: string): void;
  /**
   * Sends one binary message (a binary tunnel frame), where the transport
   * carries them (WebSocket); absent elsewhere, and tunnels then stay base64 JSON.
   * The bytes are the caller's again once it returns (the WebSocket copies them as it masks).
   */
  sendBinary?(bytes: Uint8Array): void;
  /** Closes the channel; resolves when its resources are released. */
  close(): Promise<void>;
}

export type ChannelEvents = {
  message(text: string): void;
  /** A binary tunnel frame (src/protocol/tunnel-frame.ts); `bytes` are the receiver's to keep. */
  tunnelFrame?(bytes: Uint8Array): void;
  /**
   * Called once, when the channel is closed by the peer, the network, or
   * `close()`. `serverShutdown`: the executor closed it because it is shutting
   * down (no point reconnecting).
   */
  closed(reason: string, serverShutdown?: boolean): void;
  /** `queuedBytes` fell back to 0 after the network stopped taking bytes at once: held calls may go out. */
  drained?(): void;
};

export interface Connector {
  /** Human-readable target, for error messages. */
  readonly target: string;
  /**
   * WebSocket sessions outlive their connection and can be resumed; a stdio
   * executor's only session ends with its input, so it cannot.
   */
  readonly resumable: boolean;
  open(events: ChannelEvents): Promise<Channel>;
}
