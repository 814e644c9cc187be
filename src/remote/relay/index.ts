/**
 * Relay frames and the rendezvous connection of remote mode (noise transport).
 * The Noise stream layer implements RelayStreamHandler and talks back through
 * the RelayStream objects it is handed; the server core starts a RelayClient
 * with the URL registration returned.
 */
export { reconnectDelayMs } from "./backoff.ts";
export { RelayClient, type RelayClientEvent, type RelayClientOptions } from "./client.ts";
export { RelayClosedError, RelayConnection, RelayFrameTooLargeError } from "./connection.ts";
export {
  dataFrame,
  decodeRelayFrame,
  encodeRelayFrame,
  handshakeFrame,
  RELAY_FRAME_VERSION,
  RELAY_RESET_REASON,
  type RelayBody,
  type RelayBodyKind,
  type RelayDataBody,
  RelayDecodeError,
  type RelayFrame,
  relayFrame,
  resetFrame,
  resumeFrame,
} from "./frame.ts";
export * from "./limits.ts";
export { RelayStream, type RelayStreamHandler, type StreamState, StreamTable } from "./streams.ts";
export { classifyInbound, type InboundAction, type RelayDataIn } from "./validate.ts";
export { UpgradeRejectedError } from "./ws-client.ts";
