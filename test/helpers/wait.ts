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
