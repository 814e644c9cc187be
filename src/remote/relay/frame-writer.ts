/**
 * Outgoing relay frames encoded into one reused protobufjs Writer, with room
 * in front for the WebSocket header, so a frame costs no new buffer on its way
 * to the socket: a record's ciphertext is copied once, into the frame, and
 * the WebSocket layer masks it there (remote mode's executor CPU and memory
 * went mostly to fresh per-record buffers: the framed message, the sealed
 * record, three inside protobufjs's encode, the masked WebSocket frame).
 *
 * A data frame's payload is its last field (`RelayData.payload`, field 4 of
 * `data`, field 5, with no trace fields after it): protobufjs encodes the
 * frame with a zero placeholder of the payload's length (copied from one
 * static buffer), and the record's pieces are then written over the
 * placeholder, the frame's last `byteLength` bytes. Every protobuf byte is
 * protobufjs's; frame-writer.test.ts checks the result byte for byte against
 * the plain encode.
 */
import { concatBytes } from "@noble/hashes/utils.js";
import protobuf from "protobufjs/light.js";
import { dataFrame, encodeRelayFrameInto, type RelayFrame } from "./frame.ts";

/** A data frame carrying one sealed record, its payload still in the pieces the cipher returned. */
export interface RecordFrame {
  readonly streamId: string;
  readonly seq: number;
  readonly parts: readonly Uint8Array[];
  readonly byteLength: number;
}

export type OutgoingFrame = RelayFrame | RecordFrame;

export const isRecordFrame = (frame: OutgoingFrame): frame is RecordFrame => "parts" in frame;

/** The placeholder payloads are views of this; a record is at most 65,535 bytes (a Noise message). */
const PLACEHOLDER = new Uint8Array(65536);

export class FrameWriter {
  private writer = protobuf.Writer.create();

  /** `headroom`: bytes left free before every encoded frame, for the caller's header. */
  constructor(readonly headroom: number) {}

  /**
   * Encodes `frame`; the result is a view of the writer's buffer with at
   * least `headroom` bytes before it in that buffer. It is borrowed: valid
   * (and free to be changed in place) until the next `encode`.
   */
  encode(frame: OutgoingFrame): Uint8Array {
    const w = this.writer;
    w.pos = this.headroom;
    try {
      if (!isRecordFrame(frame)) return this.finish(encodeRelayFrameInto(frame, w));
      if (frame.byteLength > PLACEHOLDER.byteLength) return this.finish(encodeRelayFrameInto(dataFrame(frame.streamId, frame.seq, concatBytes(...frame.parts)), w));
      const out = this.finish(encodeRelayFrameInto(dataFrame(frame.streamId, frame.seq, PLACEHOLDER.subarray(0, frame.byteLength)), w));
      let at = out.byteLength - frame.byteLength;
      for (const part of frame.parts) {
        out.set(part, at);
        at += part.byteLength;
      }
      return out;
    } catch (e) {
      this.writer = protobuf.Writer.create(); // A failed encode may leave fork state behind.
      throw e;
    }
  }

  private finish(w: protobuf.Writer): Uint8Array {
    return w.finish(true).subarray(this.headroom);
  }
}
