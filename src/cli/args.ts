/**
 * Command-line parsing for `execbox [exec-server] [OPTIONS]`, with the
 * reference's flag names and defaults. Pure: returns a value or throws.
 */
import { DETACHED_SESSION_TTL_MS, EXITED_PROCESS_RETENTION_MS } from "../server/limits.ts";
import { DEFAULT_LISTEN, type ListenTarget, UsageError, parseListen } from "./listen.ts";

export type ServeOptions = {
  command: "serve";
  listen: ListenTarget;
  concurrentRequests: number;
  detachedSessionTtlMs: number;
  exitedRetentionMs: number;
};
export type Command = ServeOptions | { command: "help" } | { command: "version" };

/** Flags of the reference that select features execbox does not have yet: refused, never ignored. */
const UNSUPPORTED_FLAGS = new Set([
  "--ws-auth",
  "--ws-token-file",
  "--ws-token-sha256",
  "--ws-shared-secret-file",
  "--ws-issuer",
  "--ws-audience",
  "--ws-max-clock-skew-seconds",
  "--remote",
]);

export function parseArgs(argv: string[]): Command {
  const args = [...argv];
  if (args[0] === "exec-server") args.shift();
  let listen = DEFAULT_LISTEN;
  let concurrentRequests = 1;
  let detachedSessionTtlMs = DETACHED_SESSION_TTL_MS;
  let exitedRetentionMs = EXITED_PROCESS_RETENTION_MS;
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = splitFlag(args[i]!);
    const value = () => {
      if (inline !== undefined) return inline;
      const v = args[++i];
      if (v === undefined) throw new UsageError(`a value is required for '${flag}' but none was supplied`, 2);
      return v;
    };
    switch (flag) {
      case "-h":
      case "--help":
        return { command: "help" };
      case "-V":
      case "--version":
        return { command: "version" };
      case "--listen":
        listen = value();
        break;
      case "--concurrent-requests":
        concurrentRequests = parseCount(value(), flag);
        break;
      case "--detached-session-ttl-ms":
        detachedSessionTtlMs = parseMillis(value(), flag);
        break;
      case "--exited-process-retention-ms":
        exitedRetentionMs = parseMillis(value(), flag);
        break;
      default:
        if (UNSUPPORTED_FLAGS.has(flag)) throw new UsageError(`\`${flag}\` is not supported by this execbox build yet`);
        throw new UsageError(`unexpected argument '${args[i]}' found`, 2);
    }
  }
  return { command: "serve", listen: parseListen(listen), concurrentRequests, detachedSessionTtlMs, exitedRetentionMs };
}

function splitFlag(arg: string): [string, string | undefined] {
  const eq = arg.indexOf("=");
  return arg.startsWith("--") && eq > 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg, undefined];
}

function parseCount(text: string, flag: string): number {
  const n = parseMillis(text, flag);
  if (n === 0) throw new UsageError(`invalid value '0' for '${flag} <COUNT>': number would be zero for non-zero type`, 2);
  return n;
}

function parseMillis(text: string, flag: string): number {
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw new UsageError(`invalid value '${text}' for '${flag}': invalid digit found in string`, 2);
  }
  return Number(text);
}

export const HELP = `execbox — a remote executor speaking the \`codex exec-server\` protocol

Usage: execbox [exec-server] [OPTIONS]

Options:
  --listen <URL>                 ws://IP:PORT or stdio [default: ${DEFAULT_LISTEN}]
                                 The bound URL is printed as the first line on stdout.
  --concurrent-requests <COUNT>  Requests processed at once per connection [default: 1]
  --detached-session-ttl-ms <MS> How long a disconnected session's processes wait
                                 to be resumed [default: ${DETACHED_SESSION_TTL_MS}]
  --exited-process-retention-ms <MS>
                                 How long a finished process stays readable
                                 [default: ${EXITED_PROCESS_RETENTION_MS}]
  -h, --help                     Print help
  -V, --version                  Print version

Logs go to stderr. SIGINT/SIGTERM terminate all managed processes and exit 0.
`;
