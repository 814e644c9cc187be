/**
 * Arguments of the client subcommands: `execbox exec --url … -- cmd args…`
 * and `execbox info --url …`. Pure: returns a value or throws UsageError
 * (exit 2 for malformed flags, as for the server's flags).
 */
import { FORWARD_HELP, type ForwardOptions, parseForwardSpec } from "./forward-args.ts";
import { MissingValueError, UsageError } from "./listen.ts";

/** `caFile`: PEM CA certificate(s) to trust for a `wss://` URL. */
type Connection = { url: string; tokenFile?: string; caFile?: string };
export type ExecOptions = Connection & {
  command: "exec";
  argv: string[];
  cwd?: string;
  env: Record<string, string>;
  /** Start the remote command with stdin at EOF instead of forwarding local stdin. */
  noStdin: boolean;
  /** -t (true) / -T (false), the last one given; absent: a PTY when stdin and stdout are terminals. */
  pty?: boolean;
};
export type InfoOptions = Connection & { command: "info" };

/** Parses `exec` / `info` / `forward` arguments (after the subcommand word); `help` for -h/--help. */
export function parseClientArgs(sub: "exec" | "info" | "forward", args: string[]): ExecOptions | InfoOptions | ForwardOptions | { command: "help" } {
  let url: string | undefined;
  let tokenFile: string | undefined;
  let caFile: string | undefined;
  let cwd: string | undefined;
  const env: Record<string, string> = {};
  let noStdin = false;
  let pty: boolean | undefined;
  let i = 0;
  for (; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--") {
      i++;
      break;
    }
    // The first word that is not a flag starts the command, as with ssh.
    if (!arg.startsWith("-")) break;
    const eq = arg.indexOf("=");
    const [flag, inline] = arg.startsWith("--") && eq > 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg, undefined];
    const value = () => {
      if (inline !== undefined) return inline;
      const v = args[++i];
      if (v === undefined) throw new MissingValueError(flag);
      return v;
    };
    if (flag === "-h" || flag === "--help") return { command: "help" };
    if (flag === "--url") url = value();
    else if (flag === "--token-file") tokenFile = value();
    else if (flag === "--ca-file") caFile = value();
    else if (sub === "exec" && flag === "--cwd") cwd = value();
    else if (sub === "exec" && flag === "--no-stdin") noStdin = true;
    else if (sub === "exec" && (flag === "-t" || flag === "-T")) pty = flag === "-t";
    else if (sub === "exec" && flag === "--env") {
      const pair = value();
      const sep = pair.indexOf("=");
      if (sep <= 0) throw new UsageError(`invalid value '${pair}' for '--env <KEY=VALUE>': expected KEY=VALUE`, 2);
      env[pair.slice(0, sep)] = pair.slice(sep + 1);
    } else throw new UsageError(`unexpected argument '${arg}' found`, 2);
  }
  if (url === undefined) throw new UsageError(`the following required arguments were not provided: --url <URL>`, 2);
  if (!/^wss?:\/\//.test(url)) throw new UsageError(`invalid --url \`${url}\`; expected \`ws://HOST:PORT\` or \`wss://…\``);
  if (caFile !== undefined && !url.startsWith("wss://")) throw new UsageError("`--ca-file` requires a `wss://` --url");
  const connection = { url, ...(tokenFile === undefined ? {} : { tokenFile }), ...(caFile === undefined ? {} : { caFile }) };
  if (sub === "forward") return { command: "forward", ...connection, spec: parseForwardSpec(args.slice(i)) };
  if (sub === "info") {
    if (i < args.length) throw new UsageError(`unexpected argument '${args[i]}' found`, 2);
    return { command: "info", ...connection };
  }
  const argv = args.slice(i);
  if (argv.length === 0) throw new UsageError("no command given; usage: execbox exec --url <URL> [OPTIONS] -- <COMMAND> [ARGS]…", 2);
  return { command: "exec", ...connection, argv, env, noStdin, ...(cwd === undefined ? {} : { cwd }), ...(pty === undefined ? {} : { pty }) };
}

export const CLIENT_HELP = `Client commands (drive a remote executor):
  execbox exec --url <URL> [OPTIONS] -- <COMMAND> [ARGS]…
                                 Run a command on the executor with this terminal attached;
                                 exits with the command's exit code
    --token-file <PATH>          bearer token for --ws-auth executors (trimmed)
    --ca-file <PEM_FILE>         CA certificate(s) to trust for a wss:// URL (a private CA)
    --cwd <DIR>                  remote working directory (absolute, or relative to the
                                 executor's) [default: the executor's cwd]
    --env <KEY=VALUE>            set a variable (repeatable); the rest of the environment
                                 is the executor's, minus names containing KEY/SECRET/TOKEN
    --no-stdin                   start the command with stdin at EOF
    -t                           give the command a PTY (24×80, TERM passed on) even when
                                 stdin or stdout is not a terminal
    -T                           no PTY, even at a terminal
                                 By default the command gets a PTY only when stdin and stdout are
                                 both terminals (as ssh): its output, stderr included, comes to
                                 stdout as the PTY writes it (CRLF), and keys go to it raw, so ^C
                                 reaches it through the PTY. Otherwise its stdout and stderr go to
                                 ours byte for byte, stdin is forwarded (the remote side never sees
                                 EOF: the protocol cannot close it) and Ctrl-C interrupts it.
                                 Exit: the command's code; 127 not found, 126 not executable,
                                 125 bad --cwd or start refused, 255 connection failed or lost.
  execbox info --url <URL> [--token-file <PATH>] [--ca-file <PEM_FILE>]
                                 Print the executor's environment/info as JSON
${FORWARD_HELP}`;
