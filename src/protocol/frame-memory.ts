/**
 * Memory of the frames that are mostly base64 (`process/output`,
 * `fs/readBlock`, `fs/readFile`): the buffers they are encoded from are
 * nearly all of the server's memory churn while a process streams or a file
 * is read. (Their base64 goes straight into a reused buffer: see
 * `byte-frame.ts`.)
 */

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
