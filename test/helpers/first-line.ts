/**
 * Reads the first line a freshly started executor prints on stdout (its URL),
 * with a deadline, then keeps draining stdout so the child can never block on
 * a full pipe. Shared by the test helpers, the conformance runner and the bench.
 */
export async function readFirstLine(stream: ReadableStream<Uint8Array>, timeoutMs: number): Promise<string> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let text = "";
  const deadline = setTimeout(() => void reader.cancel(), timeoutMs);
  try {
    while (!text.includes("\n")) {
      const { done, value } = await reader.read();
      if (done) throw new Error("exited (or timed out) before printing its URL");
      text += decoder.decode(value, { stream: true });
    }
  } finally {
    clearTimeout(deadline);
    reader.releaseLock();
  }
  void stream.pipeTo(new WritableStream()).catch(() => {});
  return text.slice(0, text.indexOf("\n")).trim();
}
