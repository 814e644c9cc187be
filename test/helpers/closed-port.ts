/**
 * A ws:// URL nothing listens on: a port bound on 127.0.0.1 and released at
 * once. A fixed port (even 1) may be another running test's executor.
 */
export function closedPortUrl(): string {
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const url = `ws://127.0.0.1:${listener.port}`;
  listener.stop(true);
  return url;
}
