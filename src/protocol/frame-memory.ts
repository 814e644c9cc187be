/**
 * Memory of the frames that are mostly base64 (`process/output`,
 * `fs/readBlock`, `fs/readFile`): their strings and the buffers they are
 * encoded from are nearly all of the server's memory churn while a process
 * streams or a file is read.
 *
 * - `countFrameText`: full collections paced to the frame text made. Each
 *   frame is dead once the socket has copied it, but one that is alive during
 *   a young collection is promoted and then waits for the next full one, and a
 *   dead string keeps its memory until its block is swept; streaming hundreds
 *   of MB/s that adds tens of MB to the peak RSS. A full collection with sweep
 *   (a few ms) after every 32 M characters of frames keeps the peak down at
 *   no measurable cost in throughput. It runs on the next turn of the event
 *   loop, after the frame that crossed the line has been handed to the socket.
 * - `releaseBuffer`: frees a read buffer as soon as it is encoded.
 */
import { gcAndSweep } from "bun:jsc";

export const FRAME_TEXT_PER_COLLECTION = 32 * 1024 * 1024;
let sinceCollection = 0;
let scheduled = false;

/** Counts `length` characters of short-lived frame text made. */
export function countFrameText(length: number): void {
  sinceCollection += length;
  if (sinceCollection < FRAME_TEXT_PER_COLLECTION || scheduled) return;
  scheduled = true;
  setImmediate(() => {
    scheduled = false;
    sinceCollection = 0;
    gcAndSweep();
  });
}

/**
 * Frees a buffer's memory now rather than at some later collection, for a
 * read whose bytes have been encoded (and copied where they are kept) so that
 * nothing refers to them any more. Only a whole, unshared `ArrayBuffer` (what
 * Bun's pipe and file reads return) is released; anything else is left to
 * the collector.
 */
export function releaseBuffer(bytes: Uint8Array): void {
  const buffer = bytes.buffer;
  if (!(buffer instanceof ArrayBuffer) || bytes.byteOffset !== 0 || bytes.byteLength !== buffer.byteLength) return;
  try {
    buffer.transfer(0);
  } catch {
    // Not detachable (e.g. a WebAssembly memory): the collector frees it.
  }
}
