/**
 * A RawClient over any client Channel (src/client/transport.ts), e.g. one
 * Noise stream that `remoteConnector` opens through a registry and a
 * rendezvous: every RawClient helper (and the conformance driver) then works
 * over that transport. Like a WebSocket, a send after the channel closed is
 * dropped rather than thrown, so a script can observe the close itself; so
 * is an empty message, which a Noise stream cannot carry.
 */
import type { Connector } from "../../src/client/transport.ts";
import { RawClient } from "./rpc-client.ts";

export class ChannelClient extends RawClient {
  /** Opens one channel with `connector` and wraps it. */
  static async open(connector: Connector): Promise<ChannelClient> {
    let client: ChannelClient | undefined;
    let closedEarly = false;
    const channel = await connector.open({
      message: (text) => client?.["onText"](text),
      closed: () => (client ? client["onClose"](undefined) : (closedEarly = true)),
    });
    client = new ChannelClient(
      // An empty message cannot be framed on a Noise stream (its length prefix is 1 to 64 MiB): nothing goes out.
      (text) => !channel.closed && text.length > 0 && channel.send(text),
      () => void channel.close(),
    );
    if (closedEarly) client["onClose"](undefined);
    return client;
  }
}
