/**
 * An HTTPS origin on 127.0.0.1 for the credential-masking tests: it shows a
 * leaf of its own test CA (a MitmAuthority, whose CA file the executor is
 * told to trust) for whatever name the client asks, and answers one request
 * per connection with the `Host` and `Authorization` it received, recording
 * the latter. node:tls, not node:https: Bun's node:https server fails
 * SNICallback handshakes.
 */
import { createServer } from "node:tls";
import type { MitmAuthority } from "../../src/network/mitm/authority.ts";

export type TlsOrigin = { port: number; seen: string[]; close(): void };

export async function startTlsOrigin(ca: MitmAuthority): Promise<TlsOrigin> {
  const seen: string[] = [];
  const s = createServer({ SNICallback: (name, done) => void ca.contextFor(name).then((ctx) => done(null, ctx), done) }, (socket) => {
    let head = "";
    socket.on("error", () => {});
    socket.on("data", (d) => {
      head += d.toString("latin1");
      if (!head.includes("\r\n\r\n")) return;
      const header = (name: string) => new RegExp(`^${name}: *(.*)$`, "im").exec(head)?.[1]?.trim() ?? "-";
      seen.push(header("authorization"));
      const body = `${header("host")} auth=${header("authorization")}\n`;
      socket.end(`HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`);
    });
  });
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  return { port: (s.address() as { port: number }).port, seen, close: () => s.close() };
}
