/** `--listen` values: `ws://IP:PORT` (IP literal only) or `stdio` / `stdio://`. */
import { isIP } from "node:net";

export type ListenTarget = { kind: "stdio" } | { kind: "ws"; host: string; port: number };

export const DEFAULT_LISTEN = "ws://127.0.0.1:0";

/** A command-line mistake: exit 2 for unknown or malformed flags (as clap), 1 for invalid values. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

export function parseListen(url: string): ListenTarget {
  if (url === "stdio" || url === "stdio://") return { kind: "stdio" };
  if (!url.startsWith("ws://")) throw new UsageError(`unsupported --listen URL \`${url}\`; expected \`ws://IP:PORT\` or \`stdio\``);
  const invalid = () => new UsageError(`invalid websocket --listen URL \`${url}\`; expected \`ws://IP:PORT\``);
  const m = /^ws:\/\/(\[[^\]]+\]|[^:/[\]]+):(\d{1,5})$/.exec(url);
  if (!m) throw invalid();
  const host = m[1]!.startsWith("[") ? m[1]!.slice(1, -1) : m[1]!;
  const port = Number(m[2]);
  if (!isIP(host) || port > 65535) throw invalid();
  return { kind: "ws", host, port };
}

/** True for addresses only this machine can reach. */
export function isLoopback(host: string): boolean {
  return host === "::1" || /^127\./.test(host) || host === "::ffff:127.0.0.1";
}
