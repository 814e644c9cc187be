/**
 * A stream's encrypted message channel once the handshake is done: what the
 * relay layer calls per outgoing JSON-RPC message and per incoming `data`
 * frame. Any `NoiseError` from a receiver is fatal for the stream (answer it
 * with a reset); the receiver refuses further use after one.
 */
import { NoiseError } from "./errors.ts";
import { Reassembler, frameRecords } from "./framing.ts";
import type { TransportKeys } from "./handshake-common.ts";
import { RecordOpener, RecordSealer, type SealedRecord } from "./record.ts";
import { ReorderWindow } from "./reorder.ts";

export class NoiseStreamSender {
  private readonly sealer: RecordSealer;

  constructor(sendKey: Uint8Array) {
    this.sealer = new RecordSealer(sendKey);
  }

  /** Frames `message` (JSON bytes) and seals it into records, `seq` ascending; send all, in order. `message` is not kept. */
  send(message: Uint8Array): SealedRecord[] {
    return frameRecords(message).map((pieces) => this.sealer.seal(pieces));
  }
}

export class NoiseStreamReceiver {
  private readonly window = new ReorderWindow();
  private readonly opener: RecordOpener;
  private readonly reassembler = new Reassembler();
  private failure: NoiseError | null = null;

  constructor(receiveKey: Uint8Array) {
    this.opener = new RecordOpener(receiveKey);
  }

  /** One `data` frame in; the complete messages (JSON bytes) it made available out. */
  receive(seq: number, ciphertext: Uint8Array): Uint8Array[] {
    if (this.failure) throw new NoiseError(this.failure.code, `stream already failed: ${this.failure.message}`);
    try {
      const messages: Uint8Array[] = [];
      for (const record of this.window.accept(seq, ciphertext)) {
        messages.push(...this.reassembler.push(this.opener.open(record)));
      }
      return messages;
    } catch (err) {
      this.failure = err instanceof NoiseError ? err : new NoiseError("decrypt", String(err));
      throw this.failure;
    }
  }
}

/** Both directions of a stream from this side's keys. */
export function openNoiseStream(keys: TransportKeys): { sender: NoiseStreamSender; receiver: NoiseStreamReceiver } {
  return { sender: new NoiseStreamSender(keys.send), receiver: new NoiseStreamReceiver(keys.receive) };
}
