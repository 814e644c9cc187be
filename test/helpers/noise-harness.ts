/**
 * The harness side of remote mode for tests: opens Noise streams to an
 * executor through a FakeRendezvous (resume + handshake{message 1}), reads
 * message 2 from the frames the executor sends, and then speaks JSON-RPC
 * over the stream as a RawClient (every RawClient helper works on it).
 */
import type { FakeRegistry } from "./fake-registry.ts";
import type { FakeRendezvous } from "./fake-rendezvous.ts";
import { RawClient } from "./rpc-client.ts";
import {
  HybridKeyPair,
  NoiseInitiator,
  buildPrologue,
  classifyResponderPayload,
  openNoiseStream,
  parseNoiseKeyJson,
} from "../../src/remote/noise/index.ts";
import type { NoiseStreamReceiver } from "../../src/remote/noise/index.ts";
import { dataFrame, resetFrame, type RelayFrame } from "../../src/remote/relay/frame.ts";

const WAIT_MS = 10_000;

/** What the executor answered a stream's message 1 with. */
export type OpenResult =
  | { kind: "accepted"; client: NoiseClient }
  | { kind: "registry-auth-rejected" | "invalid"; frames: RelayFrame[] }
  | { kind: "reset"; frames: RelayFrame[] };

/** A RawClient whose frames travel encrypted over one relay stream. */
export class NoiseClient extends RawClient {
  constructor(
    readonly streamId: string,
    send: (text: string) => void,
    close: () => void,
  ) {
    super(send, close);
  }

  /** @internal Called by the tap for each decrypted message / the stream's reset. */
  deliver(text: string): void {
    this["onText"](text);
  }

  ended(): void {
    this["onClose"](undefined);
  }
}

/** Taps a FakeRendezvous's received frames (it is not modified) and routes them to harness streams. */
export class NoiseHarness {
  private readonly routes = new Map<string, (frame: RelayFrame) => void>();
  private readonly identity = HybridKeyPair.generate();
  /** The order one message's data frames are sent in (a test may deliver them out of order; the executor reorders by seq). */
  order: (frames: RelayFrame[]) => RelayFrame[] = (frames) => frames;

  constructor(
    private readonly rendezvous: FakeRendezvous,
    private readonly registry: FakeRegistry,
    private readonly environmentId: string,
  ) {
    const received = rendezvous.received;
    const push = received.push.bind(received);
    received.push = (...frames: RelayFrame[]) => {
      const n = push(...frames);
      for (const f of frames) this.routes.get(f.streamId)?.(f);
      return n;
    };
  }

  /** Opens `streamId` with `authorization` as message 1's payload and waits for the executor's answer. */
  async open(streamId: string = crypto.randomUUID(), authorization = this.registry.options.harnessKeyAuthorization): Promise<OpenResult> {
    const initiator = new NoiseInitiator({
      prologue: buildPrologue({ environmentId: this.environmentId, executorRegistrationId: this.registry.options.executorRegistrationId, streamId }),
      localStatic: this.identity,
      remoteStatic: parseNoiseKeyJson(this.registry.executorPublicKey),
    });
    const message1 = initiator.writeMessage1(new TextEncoder().encode(authorization));
    const first = Promise.withResolvers<RelayFrame>();
    this.routes.set(streamId, (f) => first.resolve(f));
    this.rendezvous.openStream(streamId, message1);
    const timer = setTimeout(() => first.reject(new Error(`no answer to stream ${streamId}'s message 1 within ${WAIT_MS} ms`)), WAIT_MS);
    const answer = await first.promise.finally(() => clearTimeout(timer));
    if (answer.body?.kind !== "handshake") return { kind: "reset", frames: this.rendezvous.framesFor(streamId) };
    const { payload, keys } = initiator.readMessage2(answer.body.payload);
    const verdict = classifyResponderPayload(payload);
    if (verdict !== "accepted") return { kind: verdict, frames: this.rendezvous.framesFor(streamId) };
    const { sender, receiver } = openNoiseStream(keys);
    const client = new NoiseClient(
      streamId,
      (text) => {
        const frames = sender.send(new TextEncoder().encode(text)).map((r) => dataFrame(streamId, r.seq, r.ciphertext));
        for (const f of this.order(frames)) this.rendezvous.inject(f);
      },
      () => this.rendezvous.inject(resetFrame(streamId, "harness closed the stream")),
    );
    this.routes.set(streamId, (f) => this.onFrame(client, receiver, f));
    return { kind: "accepted", client };
  }

  /** Opens a stream that must be accepted. */
  async connect(streamId?: string): Promise<NoiseClient> {
    const result = await this.open(streamId);
    if (result.kind !== "accepted") throw new Error(`stream refused: ${result.kind}`);
    return result.client;
  }

  private onFrame(client: NoiseClient, receiver: NoiseStreamReceiver, frame: RelayFrame): void {
    if (frame.body?.kind === "reset") return client.ended();
    if (frame.body?.kind !== "data") return;
    for (const m of receiver.receive(frame.body.seq, frame.body.payload)) client.deliver(new TextDecoder().decode(m));
  }
}
