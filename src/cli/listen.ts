/** `--listen` values: `ws://IP:PORT`, `wss://IP:PORT` (IP literal only) or `stdio` / `stdio://`. */
/** IP literal checks without loading node:net (which costs startup time). */
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
function isIP(host: string): boolean {
  if (IPV4.test(host)) return true;
  if (!/^[0-9a-fA-F:.]+$/.test(host) || !host.includes(":")) return false;
  try {
    return new URL(`http://[${host}]/`).hostname.length > 2;
  } catch {
    return false;
  }
}

/** `wss` is `ws` over TLS (with `--tls-cert` and `--tls-key`). */
export type ListenTarget = { kind: "stdio" } | { kind: "ws" | "wss"; host: string; port: number };

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

/** An argument the executor's parser does not know (clap's text, exit 2); env-flags.ts skips variables that name none. */
export class UnknownArgumentError extends UsageError {
  constructor(readonly argument: string) {
    super(`unexpected argument '${argument}' found`, 2);
  }
}

/** A flag that takes a value was given none (clap's text, exit 2); env-flags.ts tells value flags from switches by it. */
export class MissingValueError extends UsageError {
  constructor(readonly flag: string) {
    super(`a value is required for '${flag}' but none was supplied`, 2);
  }
}

export function parseListen(url: string): ListenTarget {
  if (url === "stdio" || url === "stdio://") return { kind: "stdio" };
  const kind = url.startsWith("ws://") ? "ws" : url.startsWith("wss://") ? "wss" : undefined;
  if (!kind) throw new UsageError(`unsupported --listen URL \`${url}\`; expected \`ws://IP:PORT\`, \`wss://IP:PORT\` or \`stdio\``);
  const invalid = () => new UsageError(`invalid websocket --listen URL \`${url}\`; expected \`${kind}://IP:PORT\``);
  const m = /^wss?:\/\/(\[[^\]]+\]|[^:/[\]]+):(\d{1,5})$/.exec(url);
  if (!m) throw invalid();
  const host = m[1]!.startsWith("[") ? m[1]!.slice(1, -1) : m[1]!;
  const port = Number(m[2]);
  if (!isIP(host) || (m[1]!.startsWith("[") !== host.includes(":")) || port > 65535) throw invalid();
  return { kind, host, port };
}

/** True for addresses only this machine can reach. */
export function isLoopback(host: string): boolean {
  return host === "::1" || /^127\./.test(host) || host === "::ffff:127.0.0.1";
}
