/**
 * Arguments of the client subcommands: `execbox exec --url … -- cmd args…`
 * and `execbox info --url …`. Pure: returns a value or throws UsageError
 * (exit 2 for malformed flags, as for the server's flags).
 */
import { FORWARD_HELP, type ForwardOptions, parseForwardSpec } from "./forward-args.ts";
import { MissingValueError, UsageError } from "./listen.ts";
import { SIGNAL_VALUES, type SignalValue, unknownSignal } from "../protocol/signals.ts";
import { parseDuration } from "./duration.ts";

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
  /** `--timeout`: the executor ends the command after this long (extension `timeouts`). */
  timeoutMs?: number;
};
export type InfoOptions = Connection & { command: "info" };
/** `execbox kill`: a signal to a process of a detached session (resumed for the call). */
export type KillOptions = Connection & { command: "kill"; session: string; processId: string; signal: SignalValue };
/** `execbox ps`: the processes of the session `session` (resumed), as a table or `--json`. */
export type PsOptions = Connection & { command: "ps"; session: string; json: boolean };

/** Parses `exec` / `info` / `kill` / `ps` / `forward` arguments (after the subcommand word); `help` for -h/--help. */
export function parseClientArgs(sub: "exec" | "info" | "kill" | "ps" | "forward", args: string[]): ExecOptions | InfoOptions | KillOptions | PsOptions | ForwardOptions | { command: "help" } {
  let url: string | undefined;
  let tokenFile: string | undefined;
  let caFile: string | undefined;
  let cwd: string | undefined;
  const env: Record<string, string> = {};
  let noStdin = false;
  let pty: boolean | undefined;
  const kill: { signal?: string; session?: string } = {};
  let timeoutMs: number | undefined;
  let session: string | undefined;
  let json = false;
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
    else if (sub === "kill" && flag === "--signal") kill.signal = value();
    else if (sub === "kill" && flag === "--session") kill.session = value();
    else if (sub === "exec" && flag === "--cwd") cwd = value();
    else if (sub === "exec" && flag === "--no-stdin") noStdin = true;
    else if (sub === "exec" && (flag === "-t" || flag === "-T")) pty = flag === "-t";
    else if (sub === "exec" && flag === "--timeout") timeoutMs = parseDuration(value(), "--timeout <DURATION>");
    else if (sub === "ps" && flag === "--session") session = value();
    else if (sub === "ps" && flag === "--json") json = true;
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
  if (sub === "kill") return killOptions(connection, args.slice(i), kill);
  if (sub === "forward") return { command: "forward", ...connection, spec: parseForwardSpec(args.slice(i)) };
  if (sub !== "exec" && i < args.length) throw new UsageError(`unexpected argument '${args[i]}' found`, 2);
  if (sub === "info") return { command: "info", ...connection };
  if (sub === "ps") {
    if (session === undefined) throw new UsageError("the following required arguments were not provided: --session <SESSION_ID>", 2);
    return { command: "ps", ...connection, session, json };
  }
  const argv = args.slice(i);
  if (argv.length === 0) throw new UsageError("no command given; usage: execbox exec --url <URL> [OPTIONS] -- <COMMAND> [ARGS]…", 2);
  const timeout = timeoutMs === undefined ? {} : { timeoutMs };
  return { command: "exec", ...connection, argv, env, noStdin, ...(cwd === undefined ? {} : { cwd }), ...(pty === undefined ? {} : { pty }), ...timeout };
}

/** The default signal, as kill(1)'s. */
const DEFAULT_KILL_SIGNAL = "TERM";

function killOptions(connection: Connection, rest: string[], flags: { signal?: string; session?: string }): KillOptions {
  const usage = "usage: execbox kill --url <URL> --session <SESSION_ID> [--signal <NAME>] <PROCESS_ID>";
  if (flags.session === undefined) throw new UsageError(`the following required arguments were not provided: --session <SESSION_ID>; ${usage}`, 2);
  if (rest.length !== 1) throw new UsageError(rest.length === 0 ? `no process id given; ${usage}` : `unexpected argument '${rest[1]}' found`, 2);
  const signal = flags.signal ?? DEFAULT_KILL_SIGNAL;
  if (!(SIGNAL_VALUES as readonly string[]).includes(signal)) throw new UsageError(`invalid --signal: ${unknownSignal(signal)}`, 2);
  return { command: "kill", ...connection, session: flags.session, processId: rest[0]!, signal: signal as SignalValue };
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
    -t                           give the command a PTY (our terminal's size, else 24×80; TERM
                                 passed on) even when
                                 stdin or stdout is not a terminal
    -T                           no PTY, even at a terminal
                                 By default the command gets a PTY only when stdin and stdout are
                                 both terminals (as ssh): its output, stderr included, comes to
                                 stdout as the PTY writes it (CRLF), and keys go to it raw, so ^C
                                 reaches it through the PTY. Otherwise its stdout and stderr go to
                                 ours byte for byte, stdin is forwarded and Ctrl-C interrupts it.
                                 At EOF of our stdin the command's stdin is closed (a PTY gets ^D),
                                 and a PTY follows our terminal's size, where the executor has the
                                 closeStdin / ptySize extensions (execbox does; the reference
                                 cannot: there a warning says so).
    --timeout <DURATION>         the executor ends the command after DURATION (1500ms, 30s, 5m,
                                 2h; a bare number is seconds): SIGTERM to its process group,
                                 SIGKILL 2 s later; exit 124. Needs an executor with the
                                 \`timeouts\` extension (execbox; not the reference: exit 125)
                                 Exit: the command's code; 124 timed out, 127 not found,
                                 126 not executable, 125 bad --cwd or start refused,
                                 255 connection failed or lost.
  execbox kill --url <URL> --session <SESSION_ID> [--signal <NAME>] <PROCESS_ID>
                                 Send a signal to the process group of a process that a client which
                                 has disconnected left running (its session is resumed for this, and
                                 is resumable only while detached, for 80 s); NAME is interrupt or a
                                 POSIX name (TERM or SIGTERM) [default: TERM]. Without the executor's
                                 signals extension (the reference) only INT and KILL can be sent.
                                 Exit: 0 sent; 1 unknown or already exited process, or a signal
                                 the executor cannot send; 255 connection failed.
  execbox info --url <URL> [--token-file <PATH>] [--ca-file <PEM_FILE>]
                                 Print the executor's environment/info as JSON
  execbox ps --url <URL> --session <SESSION_ID> [--json] [--token-file <PATH>] [--ca-file <PEM_FILE>]
                                 List the processes of a detached session (resumed for the
                                 listing, then detached again): id, pid, state, exit code,
                                 start time, output bytes, command. Needs the \`processList\`
                                 extension (execbox; not the reference: exit 1)
${FORWARD_HELP}`;
