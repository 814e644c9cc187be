/**
 * `execbox exec` and `execbox info`: the client library driven from a
 * terminal. exec runs one remote command with local stdin/stdout/stderr
 * attached and exits with its exit code; exec-failure.ts has the codes for
 * a command that never ran (127, 126, 125) and for the transport (255).
 */
import { readFileSync } from "node:fs";
import { posix } from "node:path";
import type { Writable } from "node:stream";
import { type ExecboxClient, ExecboxAuthError, ExecboxRpcError, type RemoteProcess, connectWebSocket } from "../client/index.ts";
import { byteText, fromByteText, parsePathUri, toPathUri } from "../protocol/path-uri.ts";
import type { ExecOptions, InfoOptions } from "./client-args.ts";
import type { ForwardOptions } from "./forward-args.ts";
import { readSecretFile } from "./auth-flags.ts";
import { ExecExit, authFailureText, startFailure, timedOutExit } from "./exec-failure.ts";
import { UsageError } from "./listen.ts";
import { osErrorText } from "../protocol/errors.ts";
import { followTerminalSize, forwardStdinEnd, startSize } from "./exec-extensions.ts";

/** Exit code when the connection fails or is lost for good (ssh's convention). */
export const CONNECTION_FAILURE_EXIT = ExecExit.transport;

export const say = (text: string) => process.stderr.write(`execbox: ${text}\n`);
export const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

type ConnectionFlags = Pick<ExecOptions, "url" | "tokenFile" | "caFile">;

async function connect(options: ConnectionFlags, clientName: string, resumeSessionId?: string): Promise<ExecboxClient> {
  let token: string | undefined;
  // Held to the executor's rule for its own secret files: a token others can read is refused.
  if (options.tokenFile !== undefined) token = readSecretFile(options.tokenFile, "--token-file").toString("utf8");
  const tls = options.caFile === undefined ? undefined : { ca: readCaFile(options.caFile) };
  const resume = resumeSessionId === undefined ? {} : { resumeSessionId };
  return connectWebSocket(options.url, { clientName, ...(token === undefined ? {} : { token }), ...(tls ? { tls } : {}), ...resume });
}

function readCaFile(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    throw new UsageError(`cannot read --ca-file ${path}: ${osErrorText(e)}`);
  }
}

/**
 * Connects (resuming `resumeSessionId` if given), or reports why not on stderr
 * and returns the exit code (`refusedExit` when the executor answered
 * `initialize` with an error); usage errors still throw.
 */
export async function connectOrReport(
  options: ConnectionFlags,
  clientName: string,
  { resumeSessionId, refusedExit = CONNECTION_FAILURE_EXIT }: { resumeSessionId?: string; refusedExit?: number } = {},
): Promise<ExecboxClient | number> {
  try {
    return await connect(options, clientName, resumeSessionId);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    say(e instanceof ExecboxAuthError ? authFailureText(e, options.tokenFile) : message(e));
    return e instanceof ExecboxRpcError ? refusedExit : CONNECTION_FAILURE_EXIT;
  }
}

export async function runInfo(options: InfoOptions): Promise<number> {
  const client = await connectOrReport(options, "execbox-info");
  if (typeof client === "number") return client;
  try {
    const info = await client.call("environment/info");
    process.stdout.write(`${JSON.stringify(info, null, 2)}\n`);
    return 0;
  } catch (e) {
    say(message(e));
    return CONNECTION_FAILURE_EXIT;
  } finally {
    await client.close();
  }
}

export async function runExec(options: ExecOptions): Promise<number> {
  const client = await connectOrReport(options, "execbox-exec");
  if (typeof client === "number") return client;
  let proc: RemoteProcess | undefined;
  client.on("state", (state) => {
    // The ids ps and kill need, should this terminal give up: the command goes on in the detached session.
    if (state === "recovering") say(`connection lost; reconnecting… (session ${client.sessionId}${proc ? `, process ${proc.id}` : ""})`);
    else if (state === "connected") say("reconnected");
  });
  // ssh's rule: -t / -T decide; otherwise a PTY only when both ends are a terminal, so
  // `execbox exec … > out 2> err` at a prompt keeps the streams apart and the bytes unchanged.
  const tty = options.pty ?? (process.stdin.isTTY === true && process.stdout.isTTY === true && !options.noStdin);
  try {
    const info = await client.call("environment/info");
    const cwd = remoteCwd(options.cwd, info.cwd);
    const env = { ...options.env };
    // A PTY without TERM leaves curses programs guessing; pass ours unless --env set one.
    if (tty && process.env.TERM && env.TERM === undefined) env.TERM = process.env.TERM;
    try {
      proc = await client.startProcess({
        argv: options.argv,
        cwd,
        env,
        tty,
        pipeStdin: !tty && !options.noStdin,
        ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
        envPolicy: { inherit: "all", ignoreDefaultExcludes: false, exclude: [], set: {}, includeOnly: [] },
        ...startSize(client, tty, say),
      });
    } catch (e) {
      const failure = await startFailure(client, e, options.argv[0]!, cwd);
      say(failure.text);
      return failure.code;
    }
    const started = proc;
    const restore = attachInput(started, tty, !options.noStdin, () => forwardStdinEnd(client, started, say));
    const unfollow = followTerminalSize(client, started, tty);
    try {
      for await (const event of started) {
        if (event.type === "output") await write(event.stream === "stderr" ? process.stderr : process.stdout, event.data);
        else if (event.type === "gap") say(`warning: ${event.count} output chunk(s) were lost while reconnecting`);
      }
    } finally {
      restore();
      unfollow();
    }
    const code = await started.closed;
    await Promise.all([flush(process.stdout), flush(process.stderr)]);
    return timedOutExit(started, options) ?? code;
  } catch (e) {
    say(message(e));
    if (proc && !(e instanceof UsageError)) {
      say(`the command may still run in session ${client.sessionId} while the executor keeps it detached: execbox ps --url ${options.url} --session ${client.sessionId}`);
    }
    // Past the start, an error means the connection or the session (and so the output) is lost.
    return e instanceof UsageError ? e.exitCode : ExecExit.transport;
  } finally {
    await client.close();
  }
}

/** Forwards stdin (raw keys to a PTY, or bytes to a pipe) and Ctrl-C; returns the undo. */
function attachInput(
  proc: { write(b: Uint8Array): Promise<string>; interrupt(): Promise<void>; terminate(): Promise<boolean> },
  tty: boolean,
  forwardStdin: boolean,
  stdinEnded: () => Promise<void>,
): () => void {
  let stopped = false;
  const onInterrupt = () => void proc.interrupt().catch(() => {});
  const onTerminate = () => void proc.terminate().catch(() => {});
  // In tty mode ^C is a byte for the PTY; SIGINT only arrives if someone sends it to us.
  process.on("SIGINT", onInterrupt);
  process.on("SIGTERM", onTerminate);
  process.on("SIGHUP", onTerminate);
  // -t with stdin from a file or pipe: its bytes go to the PTY as they are.
  const raw = tty && process.stdin.isTTY === true;
  if (raw) process.stdin.setRawMode(true);
  if (forwardStdin) {
    void (async () => {
      try {
        // One write at a time: the executor may run requests concurrently, and stdin order matters.
        for await (const chunk of process.stdin) {
          if (stopped || (await proc.write(chunk as Uint8Array)) !== "accepted") return;
        }
        if (!stopped) await stdinEnded();
      } catch {
        // The process or the connection ended; the output loop reports it.
      }
    })();
  }
  return () => {
    stopped = true;
    process.off("SIGINT", onInterrupt);
    process.off("SIGTERM", onTerminate);
    process.off("SIGHUP", onTerminate);
    if (raw) process.stdin.setRawMode(false);
    process.stdin.pause();
  };
}

/** `--cwd` as a file: URI: absolute paths and URIs as given, relative ones under the executor's cwd. */
function remoteCwd(cwd: string | undefined, executorCwd: string | undefined): string {
  if (cwd !== undefined && /^file:/i.test(cwd)) return cwd;
  if (cwd !== undefined && cwd.startsWith("/")) return toPathUri(cwd);
  if (executorCwd === undefined) throw new UsageError("the executor did not report its working directory; pass --cwd");
  return cwd === undefined ? executorCwd : toPathUri(fromByteText(posix.resolve(byteText(parsePathUri(executorCwd)), cwd)));
}

async function write(stream: Writable, data: Uint8Array): Promise<void> {
  if (!stream.write(data)) await new Promise<void>((resolve) => stream.once("drain", resolve));
}

/** Resolves once everything written so far has been handed to the OS. */
function flush(stream: Writable): Promise<void> {
  return new Promise((resolve) => stream.write("", () => resolve()));
}
