/**
 * Command-line parsing for `execbox [exec-server] [OPTIONS]`, with the
 * reference's flag names and defaults. Pure: returns a value or throws.
 */
import {
  DEFAULT_MAX_PROCESSES,
  DEFAULT_MAX_SESSIONS,
  DETACHED_SESSION_TTL_MS,
  EXITED_PROCESS_RETENTION_MS,
  RETAINED_OUTPUT_BYTES_PER_PROCESS,
} from "../server/limits.ts";
import { SANDBOX_BACKENDS, type SandboxBackend } from "../sandbox/backend.ts";
import { AUTH_MODES, type AuthFlags } from "./auth-flags.ts";
import type { ForwardOptions } from "./forward-args.ts";
import { CLIENT_HELP, type ExecOptions, type InfoOptions, type KillOptions, type PsOptions, parseClientArgs } from "./client-args.ts";
import { DEFAULT_LISTEN, type ListenTarget, MissingValueError, UnknownArgumentError, UsageError, parseListen } from "./listen.ts";
import { LogFlags, type LogOptions } from "./log-flags.ts";
import { takeReferenceFlag } from "./reference-flags.ts";
import { type TlsFiles, tlsFilesFor } from "./tls-flags.ts";
import { RemoteArgs, type RemoteOptions } from "./remote-args.ts";

export type ServeOptions = {
  command: "serve";
  /** Undefined only with `--remote` and no `--listen` (remote mode alone, as the reference). */
  listen?: ListenTarget;
  /** `--remote …`: register with an environment registry and serve through it. */
  remote?: RemoteOptions;
  /** `--exit-on-stdin-close` (or CODEX_EXEC_SERVER_EXIT_ON_STDIN_CLOSE=true); requires `--remote`. */
  exitOnStdinClose: boolean;
  concurrentRequests: number;
  detachedSessionTtlMs: number;
  exitedRetentionMs: number;
  retainedOutputBytes: number;
  maxProcesses: number;
  maxSessions: number;
  sandboxBackend: SandboxBackend;
  auth: AuthFlags;
  /** Required to listen beyond loopback without `--ws-auth`. */
  allowUnauthenticated: boolean;
  /** `--tls-cert` / `--tls-key`: present exactly when listening on `wss://`. */
  tls?: TlsFiles;
  /** `--log-level` (else RUST_LOG, else info) and `--log-format`. */
  log: LogOptions;
};
export type Command =
  | ServeOptions
  | ExecOptions
  | InfoOptions
  | KillOptions
  | PsOptions
  | ForwardOptions
  | { command: "doctor"; json: boolean; remote?: string }
  | { command: "help" }
  | { command: "version" };

export function parseArgs(argv: string[], env: Record<string, string | undefined> = process.env): Command {
  // Client subcommands; anything else (including the `exec-server` alias) configures the executor.
  if (argv[0] === "exec" || argv[0] === "info" || argv[0] === "ps" || argv[0] === "forward") return parseClientArgs(argv[0], argv.slice(1));
  if (argv[0] === "doctor") return parseDoctorArgs(argv.slice(1));
  if (argv[0] === "kill") return parseClientArgs("kill", argv.slice(1));
  const args = [...argv];
  if (args[0] === "exec-server") args.shift();
  let listen: string | undefined;
  const remoteArgs = new RemoteArgs();
  const logFlags = new LogFlags();
  let concurrentRequests = 1;
  let detachedSessionTtlMs = DETACHED_SESSION_TTL_MS;
  let exitedRetentionMs = EXITED_PROCESS_RETENTION_MS;
  let retainedOutputBytes = RETAINED_OUTPUT_BYTES_PER_PROCESS;
  // Executor-wide caps (src/server/limits.ts): positive counts.
  const caps = { "--max-processes": DEFAULT_MAX_PROCESSES, "--max-sessions": DEFAULT_MAX_SESSIONS };
  let sandboxBackend: SandboxBackend = "auto";
  const auth: AuthFlags = {};
  let allowUnauthenticated = false;
  const tlsFlags: { "--tls-cert"?: string; "--tls-key"?: string } = {};
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = splitFlag(args[i]!);
    const value = () => {
      if (inline !== undefined) return inline;
      const v = args[++i];
      if (v === undefined) throw new MissingValueError(flag);
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
      case "--retained-output-bytes":
        retainedOutputBytes = parseCount(value(), flag);
        break;
      case "--max-processes":
      case "--max-sessions":
        caps[flag] = parseCount(value(), flag);
        break;
      case "--sandbox-backend": {
        const backend = value();
        if (!(SANDBOX_BACKENDS as readonly string[]).includes(backend)) {
          throw new UsageError(`invalid value '${backend}' for '--sandbox-backend <BACKEND>' [possible values: ${SANDBOX_BACKENDS.join(", ")}]`, 2);
        }
        sandboxBackend = backend as SandboxBackend;
        break;
      }
      case "--ws-auth": {
        const mode = value();
        if (!(AUTH_MODES as readonly string[]).includes(mode)) {
          throw new UsageError(`invalid value '${mode}' for '--ws-auth <MODE>' [possible values: ${AUTH_MODES.join(", ")}]`, 2);
        }
        auth.wsAuth = mode;
        break;
      }
      case "--ws-token-file":
        auth.tokenFile = value();
        break;
      case "--ws-token-sha256":
        auth.tokenSha256 = value();
        break;
      case "--ws-shared-secret-file":
        auth.sharedSecretFile = value();
        break;
      case "--ws-issuer":
        auth.issuer = value();
        break;
      case "--ws-audience":
        auth.audience = value();
        break;
      case "--ws-max-clock-skew-seconds":
        auth.maxClockSkewSeconds = parseMillis(value(), flag);
        break;
      case "--allow-unauthenticated":
        allowUnauthenticated = true;
        break;
      case "--tls-cert":
      case "--tls-key":
        tlsFlags[flag] = value();
        break;
      default:
        if (remoteArgs.take(flag, inline, value) || logFlags.take(flag, value) || takeReferenceFlag(flag, inline, value)) break;
        throw new UnknownArgumentError(args[i]!);
    }
  }
  remoteArgs.takeEnv(env);
  const { remote, exitOnStdinClose } = remoteArgs.finish();
  const target = remote && listen === undefined ? undefined : parseListen(listen ?? DEFAULT_LISTEN);
  const tls = tlsFilesFor(target, tlsFlags["--tls-cert"], tlsFlags["--tls-key"]);
  return {
    command: "serve",
    listen: target,
    remote,
    exitOnStdinClose,
    concurrentRequests,
    detachedSessionTtlMs,
    exitedRetentionMs,
    retainedOutputBytes,
    maxProcesses: caps["--max-processes"],
    maxSessions: caps["--max-sessions"],
    sandboxBackend,
    auth,
    allowUnauthenticated,
    ...(tls ? { tls } : {}),
    log: logFlags.finish(env),
  };
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
       execbox exec --url <URL> [OPTIONS] -- <COMMAND> [ARGS]…
       execbox info --url <URL> [--token-file <PATH>]
       execbox kill --url <URL> --session <SESSION_ID> [--signal <NAME>] <PROCESS_ID>
       execbox ps --url <URL> --session <SESSION_ID> [--json]
       execbox forward --url <URL> LOCAL_PORT:[REMOTE_HOST:]REMOTE_PORT
       execbox doctor [--json] [--remote <URL>]
                                   what this machine could enforce for sandboxing,
                                   and whether the environment registry answers

Options:
  --listen <URL>                 ws://IP:PORT, wss://IP:PORT or stdio [default: ${DEFAULT_LISTEN}]
                                 The bound URL is printed as the first line on stdout.
  --tls-cert <PEM_FILE>, --tls-key <PEM_FILE>
                                 certificate (chain) and key for wss:// (both required);
                                 SIGHUP re-reads them for new connections
  --concurrent-requests <COUNT>  Requests processed at once per connection [default: 1]
  --detached-session-ttl-ms <MS> How long a disconnected session's processes wait
                                 to be resumed [default: ${DETACHED_SESSION_TTL_MS}]
  --exited-process-retention-ms <MS>
                                 How long a finished process stays readable
                                 [default: ${EXITED_PROCESS_RETENTION_MS}]
  --retained-output-bytes <N>    Output kept per process for process/read and for
                                 catching up after a reconnect [default: ${RETAINED_OUTPUT_BYTES_PER_PROCESS}]
  --max-processes <N>            Processes running at once in the executor
                                 [default: ${DEFAULT_MAX_PROCESSES}]
  --max-sessions <N>             Sessions held at once, attached or detached
                                 [default: ${DEFAULT_MAX_SESSIONS}]
  --sandbox-backend <BACKEND>    auto | bwrap | landlock: how Linux sandbox intent is
                                 enforced (auto: bwrap where user namespaces work,
                                 else Landlock) [default: auto]
  --ws-auth <MODE>               capability-token | signed-bearer-token; clients send
                                 \`Authorization: Bearer <token>\` on the upgrade
  --ws-token-file <PATH>         capability token (trimmed, ≥ 16 bytes), or
  --ws-token-sha256 <HEX>        its SHA-256
  --ws-shared-secret-file <PATH> HS256 secret for signed tokens (≥ 32 bytes)
                                 Secret files must not be accessible by group or
                                 others (chmod 600).
  --ws-issuer <ISS>, --ws-audience <AUD>
                                 required iss / aud claims (signed tokens)
  --ws-max-clock-skew-seconds <S> leeway for exp/nbf [default: 30]
  --allow-unauthenticated        listen beyond loopback without --ws-auth (not recommended)
  --log-level <LEVEL>            error | warn | info | debug | trace [default: info,
                                 or what RUST_LOG sets for execbox/codex_exec_server]
  --log-format <FORMAT>          text | json (one object per line) [default: text]

Remote mode:
  --remote <URL>                 register with the environment registry at URL and
                                 serve harnesses through its rendezvous
                                 (may be combined with --listen ws://…)
  --environment-id <ID>          environment to register as (required with --remote)
  --name <NAME>                  human-readable environment name
  --remote-transport <T>         noise | direct [default: noise]
  --registration-bearer-stdin    read one registration bearer line from stdin
                                 (else CODEX_API_KEY is the bearer)
  --aws-sigv4                    sign direct registration with AWS SigV4 (direct only)
  --aws-profile <PROFILE>, --aws-region <REGION>
                                 AWS profile and signing region (else the AWS_* chain)
  --aws-service <SERVICE>        AWS signing service [default: execute-api]
  --exit-on-stdin-close          exit when stdin closes
                                 [env: CODEX_EXEC_SERVER_EXIT_ON_STDIN_CLOSE]
  Refused: --chatgpt-token-stdin, --chatgpt-account-id, --use-agent-identity-auth,
  --executor-credential-stdin (credential sources execbox cannot honour).

Other reference flags:
  --linux-sandbox-pid-namespace isolate
                                 accepted (execbox's sandboxes always isolate;
                                 \`inherit\` is refused)
  --strict-config, --proxy-private-ips-via-upstream
                                 accepted; no effect (no config.toml, no proxy)
  Refused: -c/--config, --enable, --disable (no Codex config to override),
  --linux-sandbox-transparent-tcp, --tcp-upstream-proxy (no managed proxy).
  -h, --help                     Print help
  -V, --version                  Print version

Every option above also reads EXECBOX_<OPTION> (--max-sessions: EXECBOX_MAX_SESSIONS;
switches: true or false); the command line wins.
Logs go to stderr. SIGINT/SIGTERM close clients' WebSockets (1001 "execbox
shutting down"), terminate all managed processes and exit 0.

${CLIENT_HELP}`;

/** `execbox doctor [--json] [--remote <URL>]`. */
function parseDoctorArgs(argv: string[]): Command {
  let remote: string | undefined;
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--json") json = true;
    else if (a === "--remote" && argv[i + 1] !== undefined) remote = argv[++i];
    else if (a.startsWith("--remote=")) remote = a.slice("--remote=".length);
    else throw new UsageError(`unexpected argument '${a}' found`, 2);
  }
  return remote === undefined ? { command: "doctor", json } : { command: "doctor", json, remote };
}
