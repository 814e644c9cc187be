/**
 * An HTTPS origin on 127.0.0.1 for the credential-masking tests: it shows a
 * leaf of its own test CA (a MitmAuthority, whose CA file the executor is
 * told to trust) for whatever name the client asks, and answers one request
 * per connection with the `Host` and `Authorization` it received, recording
 * the latter. node:tls, not node:https: Bun's node:https server fails
 * SNICallback handshakes.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createServer } from "node:tls";
import type { MitmAuthority } from "../../src/network/mitm/authority.ts";
import { RawClient } from "./rpc-client.ts";
import { type RunningServer, execboxCommand, startServer } from "./server.ts";

export type TlsOrigin = { port: number; seen: string[]; close(): void };

/** `echo`: more to answer with — the request's path, and the values of these (lower-case) headers after `auth=`. */
export type EchoOptions = { path?: boolean; headers?: string[] };

export async function startTlsOrigin(ca: MitmAuthority, echo: EchoOptions = {}): Promise<TlsOrigin> {
  const seen: string[] = [];
  const s = createServer({ SNICallback: (name, done) => void ca.contextFor(name).then((ctx) => done(null, ctx), done) }, (socket) => {
    let head = "";
    socket.on("error", () => {});
    socket.on("data", (d) => {
      head += d.toString("latin1");
      if (!head.includes("\r\n\r\n")) return;
      const header = (name: string) => new RegExp(`^${name}: *(.*)$`, "im").exec(head)?.[1]?.trim() ?? "-";
      seen.push(header("authorization"));
      const path = echo.path ? ` ${head.split(" ")[1]}` : "";
      const more = (echo.headers ?? []).map((h) => ` ${h}=${header(h)}`).join("");
      const body = `${header("host")}${path} auth=${header("authorization")}${more}\n`;
      socket.end(`HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`);
    });
  });
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  return { port: (s.address() as { port: number }).port, seen, close: () => s.close() };
}

/**
 * A masked executor for origins on 127.0.0.1 under test names: it runs in a
 * private mount namespace whose /etc/hosts names `hosts` (the host's file is
 * untouched), with `CODEX_HOME` a fresh directory under `dir` and `env` over
 * a plain PATH and HOME. Returns its initialized client; the caller stops both.
 */
export async function startMaskedExecutor(dir: string, hosts: string[], env: Record<string, string>): Promise<{ server: RunningServer; client: RawClient }> {
  mkdirSync(join(dir, "codex"));
  writeFileSync(join(dir, "hosts"), `127.0.0.1 localhost ${hosts.join(" ")}\n`);
  const hostsNs = ["unshare", "-m", "sh", "-c", `mount --bind ${dir}/hosts /etc/hosts && exec "$@"`, "sh"];
  const server = await startServer([], { env: { PATH: "/usr/local/bin:/usr/bin:/bin", HOME: dir, CODEX_HOME: join(dir, "codex"), ...env }, command: [...hostsNs, ...execboxCommand()] });
  const client = await RawClient.websocket(server.url);
  await client.initialize();
  return { server, client };
}
