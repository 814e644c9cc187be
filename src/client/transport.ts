/**
 * What the client needs from a transport: a channel that moves whole JSON-RPC
 * messages as text, and a connector that can open one (again, for a resumable
 * transport). The client owns everything above framing.
 */
export interface Channel {
  /** True once the channel is closed, by either side; sends then throw. */
  readonly closed: boolean;
  send(text: string): void;
  /** Closes the channel; resolves when its resources are released. */
  close(): Promise<void>;
}

export type ChannelEvents = {
  message(text: string): void;
  /** Called once, when the channel is closed by the peer, the network, or `close()`. */
  closed(reason: string): void;
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
