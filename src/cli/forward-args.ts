/**
 * `execbox forward --url … LOCAL_PORT:REMOTE_HOST:REMOTE_PORT` (or
 * `LOCAL_PORT:REMOTE_PORT`, host 127.0.0.1), as `ssh -L` spells it; an IPv6
 * host goes in brackets (`8080:[::1]:80`). Pure: a value or a UsageError.
 */
import { UsageError } from "./listen.ts";

export type ForwardSpec = { localPort: number; remoteHost: string; remotePort: number };
export type ForwardOptions = { command: "forward"; url: string; tokenFile?: string; caFile?: string; spec: ForwardSpec };

const SPEC = /^(\d+):(?:(\[[0-9A-Fa-f:.]+\]|[^:[\]]+):)?(\d+)$/;

export function parseForwardSpec(words: string[]): ForwardSpec {
  if (words.length === 0) throw new UsageError("no forwarding given; usage: execbox forward --url <URL> LOCAL_PORT:[REMOTE_HOST:]REMOTE_PORT", 2);
  if (words.length > 1) throw new UsageError(`unexpected argument '${words[1]}' found`, 2);
  const m = SPEC.exec(words[0]!);
  const localPort = Number(m?.[1]);
  const remotePort = Number(m?.[3]);
  if (!m || localPort > 65535 || remotePort < 1 || remotePort > 65535) {
    throw new UsageError(`invalid forwarding '${words[0]}'; expected LOCAL_PORT:[REMOTE_HOST:]REMOTE_PORT (ports 1-65535; local 0 picks a free one)`, 2);
  }
  const host = m[2] ?? "127.0.0.1";
  return { localPort, remoteHost: host.startsWith("[") ? host.slice(1, -1) : host, remotePort };
}

export const FORWARD_HELP = `  execbox forward --url <URL> [--token-file <PATH>] [--ca-file <PEM_FILE>]
                 LOCAL_PORT:[REMOTE_HOST:]REMOTE_PORT
                                 Listen on 127.0.0.1:LOCAL_PORT and carry each connection to
                                 REMOTE_HOST:REMOTE_PORT as the executor sees it (like ssh -L;
                                 REMOTE_HOST defaults to 127.0.0.1, and the executor allows
                                 loopback only). Prints \`listening on 127.0.0.1:PORT\`, serves
                                 until SIGINT/SIGTERM. Exit: 0 after a signal, 1 the executor has
                                 no \`tunnel\` extension or LOCAL_PORT cannot be bound,
                                 2 bad arguments, 255 connection failed or lost.
`;
