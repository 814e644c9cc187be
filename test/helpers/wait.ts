/**
 * Waits for a condition outside the protocol (a file appearing, a pid dying)
 * by re-checking it every few ms until a deadline. Protocol events use
 * RawClient.waitFor instead, which wakes on each frame.
 */
export const POLL_INTERVAL_MS = 5;

export async function waitUntil(pred: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await Bun.sleep(POLL_INTERVAL_MS);
  }
}

/**
 * Waits for a counter outside the protocol (bytes a child wrote, bytes a
 * server read) to stop moving: unchanged over `samples` readings `intervalMs`
 * apart, or `done` by its own value. Returns the last reading.
 */
export async function waitUntilSteady(
  read: () => number,
  what: string,
  { samples = 10, intervalMs = 50, timeoutMs = 30_000, done = (_: number): boolean => false } = {},
): Promise<number> {
  let last = Number.NaN;
  let still = 0;
  await waitUntil(
    async () => {
      await Bun.sleep(intervalMs);
      const now = read();
      still = now === last ? still + 1 : 0;
      last = now;
      return still >= samples || done(now);
    },
    timeoutMs,
    what,
  );
  return last;
}
