/**
 * Application framing inside the encrypted byte stream (remote.md §5.6):
 * each JSON-RPC message is a 4-byte big-endian length and its bytes, cut
 * into records of at most 60 KiB. Records are a byte stream to the receiver:
 * one may complete several messages, one message may span many.
 */
import { NoiseError } from "./errors.ts";
import { FRAME_HEADER_BYTES, MAX_MESSAGE_BYTES, MAX_RECORD_PLAINTEXT_BYTES, MIN_MESSAGE_BYTES } from "./limits.ts";

function checkLength(length: number, side: string): void {
  if (length < MIN_MESSAGE_BYTES || length > MAX_MESSAGE_BYTES) {
    throw new NoiseError("framing", `${side} message of ${length} bytes; a framed message is ${MIN_MESSAGE_BYTES} to ${MAX_MESSAGE_BYTES} bytes`);
  }
}

/**
 * Frames one message and cuts it into record plaintexts, without copying it:
 * each record is a list of pieces (the first starts with a fresh 4-byte
 * length header, the rest are views of `message`), sealed as one record. The
 * views are only as long-lived as `message`: seal them before it changes.
 */
export function frameRecords(message: Uint8Array, maxChunk = MAX_RECORD_PLAINTEXT_BYTES): Uint8Array[][] {
  checkLength(message.length, "outgoing");
  const header = new Uint8Array(FRAME_HEADER_BYTES);
  new DataView(header.buffer).setUint32(0, message.length);
  const records: Uint8Array[][] = [[header, message.subarray(0, maxChunk - FRAME_HEADER_BYTES)]];
  for (let at = maxChunk - FRAME_HEADER_BYTES; at < message.length; at += maxChunk) records.push([message.subarray(at, at + maxChunk)]);
  return records;
}

/**
 * Rebuilds messages from decrypted records. A message's buffer is allocated
 * only after its length is checked, so at most header + 64 MiB is held
 * (`MAX_REASSEMBLY_BYTES`).
 */
export class Reassembler {
  private readonly header = new Uint8Array(FRAME_HEADER_BYTES);
  private headerFill = 0;
  private body: Uint8Array | null = null;
  private bodyFill = 0;

  /** Bytes of an unfinished message held now (header included). */
  get pendingBytes(): number {
    return this.headerFill + this.bodyFill;
  }

  /**
   * One decrypted record in; the messages it completes out. A message that
   * lies whole inside `chunk` comes out as a view of it (no copy), so
   * `chunk` must be the caller's own (a fresh plaintext is).
   */
  push(chunk: Uint8Array): Uint8Array[] {
    const messages: Uint8Array[] = [];
    let at = 0;
    while (at < chunk.length) {
      if (this.body === null && this.headerFill === 0 && chunk.length - at >= FRAME_HEADER_BYTES) {
        const length = new DataView(chunk.buffer, chunk.byteOffset + at).getUint32(0);
        checkLength(length, "incoming");
        if (chunk.length - at - FRAME_HEADER_BYTES >= length) {
          messages.push(chunk.subarray(at + FRAME_HEADER_BYTES, at + FRAME_HEADER_BYTES + length));
          at += FRAME_HEADER_BYTES + length;
          continue;
        }
      }
      if (this.body === null) {
        const take = Math.min(FRAME_HEADER_BYTES - this.headerFill, chunk.length - at);
        this.header.set(chunk.subarray(at, at + take), this.headerFill);
        this.headerFill += take;
        at += take;
        if (this.headerFill < FRAME_HEADER_BYTES) break;
        const length = new DataView(this.header.buffer).getUint32(0);
        checkLength(length, "incoming");
        // Not zero-filled: every byte is written before the message is handed out.
        this.body = Buffer.allocUnsafe(length);
      }
      const take = Math.min(this.body.length - this.bodyFill, chunk.length - at);
      this.body.set(chunk.subarray(at, at + take), this.bodyFill);
      this.bodyFill += take;
      at += take;
      if (this.bodyFill === this.body.length) {
        messages.push(this.body);
        this.body = null;
        this.bodyFill = 0;
        this.headerFill = 0;
      }
    }
    return messages;
  }
}
