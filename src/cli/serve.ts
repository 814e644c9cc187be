/** `execbox --listen …`: runs the executor until a signal (WebSocket) or stdin EOF (stdio). */
import { ExecServer } from "../server/exec-server.ts";
import { SHUTDOWN_GRACE_MS } from "../server/limits.ts";
import { serveStdio } from "../transport/stdio.ts";
import { listenWebSocket } from "../transport/websocket.ts";
import type { ServeOptions } from "./args.ts";
import { isLoopback } from "./listen.ts";

export async function serve(options: ServeOptions): Promise<number> {
  const exec = new ExecServer({
    concurrentRequests: options.concurrentRequests,
    detachedSessionTtlMs: options.detachedSessionTtlMs,
    exitedRetentionMs: options.exitedRetentionMs,
  });
  const shutdown = async () => {
    await Promise.race([exec.shutdown(), Bun.sleep(SHUTDOWN_GRACE_MS)]);
  };
  if (options.listen.kind === "stdio") {
    const onSignal = () => void shutdown().then(() => process.exit(0));
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    await serveStdio(exec);
    await shutdown();
    return 0;
  }
  const { host, port } = options.listen;
  const listener = listenWebSocket(exec, host, port);
  await Bun.write(Bun.stdout, `${listener.url}\n`);
  if (!isLoopback(host)) {
    console.error(`execbox: warning: listening on non-loopback ${listener.url} without authentication`);
  }
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  await Promise.race([listener.stop(), Bun.sleep(SHUTDOWN_GRACE_MS)]);
  await shutdown();
  return 0;
}
