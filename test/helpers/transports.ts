/**
 * One contract suite, two transports: `connectOver("ws")` starts an executor on
 * 127.0.0.1:0 and connects; `connectOver("stdio")` spawns `--listen stdio`.
 * Both return a RawClient and a disposer that kills what was started.
 */
import { RawClient } from "./rpc-client.ts";
import { execboxCommand, startServer } from "./server.ts";

export type Transport = "ws" | "stdio";
export const TRANSPORTS: Transport[] = ["ws", "stdio"];

export type Connected = { client: RawClient; dispose(): Promise<void> };

export async function connectOver(transport: Transport, args: string[] = []): Promise<Connected> {
  if (transport === "ws") {
    const server = await startServer(args);
    const client = await RawClient.websocket(server.url);
    return {
      client,
      dispose: async () => {
        client.close();
        await server.stop("SIGKILL");
      },
    };
  }
  const proc = Bun.spawn([...execboxCommand(), "--listen", "stdio", ...args], {
    stdin: "pipe",
    stdout: "pipe",
    stderr: "inherit",
  });
  const client = RawClient.stdio(proc);
  return {
    client,
    dispose: async () => {
      proc.kill("SIGKILL");
      await proc.exited;
    },
  };
}

/** A connected, initialized client. */
export async function readyClient(transport: Transport, args: string[] = []): Promise<Connected> {
  const c = await connectOver(transport, args);
  await c.client.initialize();
  return c;
}
