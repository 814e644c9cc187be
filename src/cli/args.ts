/**
 * Command-line parsing for `execbox [exec-server] [OPTIONS]`, with the
 * reference's flag names and defaults. Pure: returns a value or throws.
 */
import { DEFAULT_LISTEN, type ListenTarget, UsageError, parseListen } from "./listen.ts";

export type ServeOptions = {
  command: "serve";
  listen: ListenTarget;
  concurrentRequests: number;
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
        concurrentRequests = parseCount(value());
        break;
      default:
        if (UNSUPPORTED_FLAGS.has(flag)) throw new UsageError(`\`${flag}\` is not supported by this execbox build yet`);
        throw new UsageError(`unexpected argument '${args[i]}' found`, 2);
    }
  }
  return { command: "serve", listen: parseListen(listen), concurrentRequests };
}

function splitFlag(arg: string): [string, string | undefined] {
  const eq = arg.indexOf("=");
  return arg.startsWith("--") && eq > 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg, undefined];
}

function parseCount(text: string): number {
  if (!/^\d+$/.test(text)) {
    throw new UsageError(`invalid value '${text}' for '--concurrent-requests <COUNT>': invalid digit found in string`, 2);
  }
  const n = Number(text);
  if (n === 0) {
    throw new UsageError(`invalid value '0' for '--concurrent-requests <COUNT>': number would be zero for non-zero type`, 2);
  }
  return n;
}

export const HELP = `execbox — a remote executor speaking the \`codex exec-server\` protocol

Usage: execbox [exec-server] [OPTIONS]

Options:
  --listen <URL>                 ws://IP:PORT or stdio [default: ${DEFAULT_LISTEN}]
                                 The bound URL is printed as the first line on stdout.
  --concurrent-requests <COUNT>  Requests processed at once per connection [default: 1]
  -h, --help                     Print help
  -V, --version                  Print version

Logs go to stderr. SIGINT/SIGTERM terminate all managed processes and exit 0.
`;
