/**
 * The executor's side of each relay stream (remote.md §5.5, §5.8): reads
 * Noise message 1, asks the registry whether the harness key may connect
 * (asynchronously: other streams go on meanwhile), then answers with message
 * 2 and serves the stream as one server connection, or refuses it.
 */
import type { ExecServer } from "../server/exec-server.ts";
import {
  type HybridKeyPair,
  type HybridPublicKeys,
  NoiseResponder,
  type ResponderResult,
  REGISTRY_AUTH_REJECTED_PAYLOAD,
  buildPrologue,
  openNoiseStream,
  parseHarnessAuthorization,
} from "./noise/index.ts";
import type { ValidateOutcome } from "./registry.ts";
import type { RelayDataIn, RelayStream, RelayStreamHandler } from "./relay/index.ts";
import { StreamTransport } from "./stream-transport.ts";

/** The registration streams are bound to (their Noise prologue). */
export type Route = { environmentId: string; executorRegistrationId: string };

/** Asks the registry about a harness key (§2.4); `signal` aborts when the stream goes away first. */
export type HarnessValidator = (streamId: string, harness: HybridPublicKeys, authorization: string, signal: AbortSignal) => Promise<ValidateOutcome>;

export type NoiseStreamsOptions = {
  exec: ExecServer;
  identity: HybridKeyPair;
  /** The current registration (it changes when the executor re-registers). */
  route(): Route;
  validate: HarnessValidator;
  log(line: string): void;
};

export class NoiseStreams implements RelayStreamHandler {
  private readonly transports = new Map<RelayStream, StreamTransport>();
  private readonly validating = new Map<RelayStream, AbortController>();

  constructor(private readonly opts: NoiseStreamsOptions) {}

  onOpen(stream: RelayStream, message1: Uint8Array): void {
    void this.handshake(stream, message1);
  }

  onData(stream: RelayStream, data: RelayDataIn): void {
    this.transports.get(stream)?.onData(data);
  }

  onClose(stream: RelayStream, why: string): void {
    this.validating.get(stream)?.abort(new Error(`relay stream closed: ${why}`));
    this.validating.delete(stream);
    const transport = this.transports.get(stream);
    this.transports.delete(stream);
    if (transport) {
      this.opts.log(`stream ${stream.id} closed: ${why}`);
      transport.onClose();
    }
  }

  private async handshake(stream: RelayStream, message1: Uint8Array): Promise<void> {
    const route = this.opts.route();
    let responder: NoiseResponder;
    let harness: HybridPublicKeys;
    let authorization: string;
    try {
      const prologue = buildPrologue({ ...route, streamId: stream.id });
      responder = new NoiseResponder({ prologue, localStatic: this.opts.identity });
      const read = await responder.readMessage1(message1);
      harness = read.remoteStatic;
      authorization = parseHarnessAuthorization(read.payload);
    } catch (e) {
      return stream.fail(`Noise message 1 refused: ${(e as Error).message}`);
    }
    if (stream.state !== "pending") return; // Reset or its socket closed meanwhile.
    const abort = new AbortController();
    this.validating.set(stream, abort);
    let outcome: ValidateOutcome | { kind: "error"; error: Error };
    try {
      outcome = await this.opts.validate(stream.id, harness, authorization, abort.signal);
    } catch (e) {
      outcome = { kind: "error", error: e as Error };
    } finally {
      this.validating.delete(stream);
    }
    if (stream.state !== "pending") return; // Reset or its socket closed while the registry answered.
    switch (outcome.kind) {
      case "valid": {
        const reply = await this.message2(stream, responder);
        if (reply) this.serve(stream, reply);
        return;
      }
      case "executor_rejected": {
        // An authenticated signal to the harness that the registry refused *our* credentials (§2.4).
        const reply = await this.message2(stream, responder, REGISTRY_AUTH_REJECTED_PAYLOAD);
        if (reply) stream.sendHandshake(reply.message);
        return stream.reset(`the registry rejected the executor's credentials: ${outcome.error.message}`);
      }
      case "invalid":
        return stream.fail("the registry did not authorize the harness key");
      default:
        return stream.fail(`harness key validation failed: ${outcome.error.message}`);
    }
  }

  /**
   * Message 2, or null when it cannot be written (the stream is then reset:
   * e.g. the harness's KEM key is no encapsulation key, which validation does
   * not look at) or the stream went away meanwhile.
   */
  private async message2(stream: RelayStream, responder: NoiseResponder, payload?: Uint8Array): Promise<ResponderResult | null> {
    try {
      const reply = await responder.writeMessage2(payload);
      return stream.state === "pending" ? reply : null;
    } catch (e) {
      stream.fail(`Noise message 2 failed: ${(e as Error).message}`);
      return null;
    }
  }

  private serve(stream: RelayStream, { message, keys }: ResponderResult): void {
    // False: the socket could not take it and is being dropped; its close ends the stream.
    if (!stream.sendHandshake(message) || !stream.activate()) return;
    const { sender, receiver } = openNoiseStream(keys);
    const transport = new StreamTransport(stream, sender, receiver);
    this.transports.set(stream, transport);
    transport.connection = this.opts.exec.connect(transport, {
      parseErrorPrefix: `failed to parse Noise relay JSON-RPC message from stream ${stream.id}: `,
      detachOnClose: true,
      transport: "relay",
      peer: `stream ${stream.id}`,
    });
    this.opts.log(`stream ${stream.id} opened`);
  }
}
