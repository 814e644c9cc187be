/** Writing queued chunks to a socket that may take only part of them (Bun's `write` returns what it took). */

/** Writes from the head of `queue` until the socket stops taking; true once the queue is empty. */
export function writeQueued(socket: { write(data: Uint8Array): number }, queue: Uint8Array[]): boolean {
  while (queue.length > 0) {
    const data = queue[0]!;
    const n = socket.write(data);
    if (n < data.byteLength) {
      queue[0] = data.subarray(Math.max(0, n));
      return false;
    }
    queue.shift();
  }
  return true;
}

/**
 * Chunks smaller than this that wait for a socket are copied into shared
 * buffers of this size: a client's tiny writes (1-byte binary frames) then
 * cost their bytes, not an object each — a 2 MiB write window of them was
 * two million queue entries, each frame's bookkeeping walking them all.
 */
export const JOINED_WRITE_BYTES = 64 * 1024;

/** The buffers `enqueueCopy` made; only such a buffer's free tail is written into. */
const joints = new WeakSet<ArrayBufferLike>();

/** Appends a copy of `chunk` to `queue` (so the caller may reuse it), joined to the last small one when they fit. */
export function enqueueCopy(queue: Uint8Array[], chunk: Uint8Array): void {
  const last = queue.at(-1);
  if (last && joints.has(last.buffer)) {
    const end = last.byteOffset + last.byteLength;
    if (end + chunk.byteLength <= last.buffer.byteLength) {
      const joint = new Uint8Array(last.buffer);
      joint.set(chunk, end);
      queue[queue.length - 1] = joint.subarray(last.byteOffset, end + chunk.byteLength);
      return;
    }
  }
  if (chunk.byteLength >= JOINED_WRITE_BYTES) return void queue.push(chunk.slice());
  const joint = new Uint8Array(JOINED_WRITE_BYTES);
  joints.add(joint.buffer);
  joint.set(chunk);
  queue.push(joint.subarray(0, chunk.byteLength));
}
