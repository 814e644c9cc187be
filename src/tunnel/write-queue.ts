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
