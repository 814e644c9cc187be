/** `execbox --listen …`: runs the executor until a signal (WebSocket) or stdin EOF (stdio). */
import { ExecServer } from "../server/exec-server.ts";
import { osErrorText } from "../protocol/errors.ts";
import { SHUTDOWN_GRACE_MS } from "../server/limits.ts";
import { serveStdio } from "../transport/stdio.ts";
import { listenWebSocket } from "../transport/websocket.ts";
import type { ServeOptions } from "./args.ts";
import type { RemoteOptions } from "./remote-args.ts";
import { checkAuthorization, refusalText } from "../server/auth.ts";
import { authConfigFrom, secretPathsOf } from "./auth-flags.ts";
import { UsageError, isLoopback } from "./listen.ts";
import { releaseStartupCode } from "./release-startup-code.ts";
import { loadTls, reloadOnSighup, tlsSecretPaths } from "./tls-flags.ts";
import { type Endpoint, type PeerVerdict, classifyPeer, noteListener } from "../sandbox/peer-guard.ts";
import type { HttpReply } from "../transport/http1.ts";
import { makeExecutorUndumpable } from "../sandbox/undumpable.ts";
import { log } from "../log/logger.ts";
import { VERSION } from "../version.ts";
import { startTracing, stopTracing } from "../server/tracing.ts";

export async function serve(options: ServeOptions): Promise<number> {
  log.configure(options.log.level, options.log.format);
  if (options.remote) await checkRemote(options.remote, options.listen);
  const listenTarget = options.listen;
  const auth = authConfigFrom(options.auth);
  // Before anything starts: a bad certificate or key is one line naming the file.
  const tls = options.tls ? loadTls(options.tls) : undefined;
  // Before anything runs: commands must not read the executor's memory or environment through /proc.
  makeExecutorUndumpable();
  const exec = new ExecServer({
    concurrentRequests: options.concurrentRequests,
    detachedSessionTtlMs: options.detachedSessionTtlMs,
    exitedRetentionMs: options.exitedRetentionMs,
    retainedOutputBytes: options.retainedOutputBytes,
    maxProcesses: options.maxProcesses,
    maxSessions: options.maxSessions,
    sandboxBackend: options.sandboxBackend,
    secretPaths: [...secretPathsOf(options.auth), ...tlsSecretPaths(options.tls)],
  });
  // Loads the OpenTelemetry SDK only when an OTLP endpoint is configured.
  await startTracing(process.env);
  const shutdown = async () => {
    await Promise.race([exec.shutdown(), Bun.sleep(SHUTDOWN_GRACE_MS)]);
    // The last spans, including those of the processes just ended, are exported before exit.
    await Promise.race([stopTracing(), Bun.sleep(SHUTDOWN_GRACE_MS)]);
  };
  const started = (url: string | undefined) =>
    log.info("execbox started", {
      version: VERSION,
      url,
      auth: options.auth.wsAuth ?? "none",
      sandbox: options.sandboxBackend,
      remote: options.remote?.transport,
    });
  /** Logs the end of serving (`signal`: what ended it) and closes the sessions. */
  const stopAll = async (signal: string, listener?: { stop(): Promise<void> }) => {
    const sessions = exec.context.sessions.size;
    await remote?.stop();
    if (listener) await Promise.race([listener.stop(), Bun.sleep(SHUTDOWN_GRACE_MS)]);
    await shutdown();
    log.info("execbox stopped", { signal, sessions_closed: sessions });
  };
  // Imported only here, so --listen alone does not load the Noise and relay code.
  const remote = options.remote ? await startRemoteMode(exec, options) : undefined;
  if (listenTarget?.kind === "stdio") {
    const onSignal = (signal: string) => void stopAll(signal).then(() => process.exit(0));
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    started("stdio");
    releaseStartupCode();
    await serveStdio(exec);
    await stopAll("end of input");
    return 0;
  }
  if (!listenTarget) {
    started(undefined);
    releaseStartupCode();
    let signal = "error";
    try {
      signal = await untilSignal(remote!);
    } finally {
      await stopAll(signal);
    }
    return 0;
  }
  const { host, port } = listenTarget;
  // Safer than the reference: anyone who reaches a non-loopback port could run commands.
  if (!isLoopback(host) && !auth && !options.allowUnauthenticated) {
    throw new UsageError(
      `refusing to listen on non-loopback address ${host} without --ws-auth; pass --allow-unauthenticated to accept anyone who can reach it`,
    );
  }
  const listener = listenOrExplain(listenTarget.kind, host, port, () => listenWebSocket(
    exec,
    host,
    port,
    (headers, peer) => {
      if (!auth) return undefined;
      const reason = checkAuthorization(headers.get("authorization"), auth, Date.now() / 1000);
      if (reason === undefined) return undefined;
      // The reason names no part of the token or the secret.
      log.warn("refused an upgrade", { status: 401, reason, peer });
      return plainReply(401, refusalText(reason));
    },
    (local, remote) => {
      const verdict = classifyPeer(local, remote);
      return verdict instanceof Promise ? verdict.then((v) => peerReply(v, remote)) : peerReply(verdict, remote);
    },
    tls,
  ));
  const stopReloading = options.tls ? reloadOnSighup(options.tls, (keys) => listener.setTls(keys)) : () => {};
  noteListener(Number(new URL(listener.url).port), auth !== undefined);
  await Bun.write(Bun.stdout, `${listener.url}\n`);
  started(listener.url);
  // After the URL, so whoever waits for it does not wait for this too.
  releaseStartupCode();
  if (!isLoopback(host) && !auth) log.warn("this listener accepts unauthenticated connections from anyone who can reach it", { url: listener.url });
  let signal = "error";
  try {
    signal = await untilSignal(remote);
  } finally {
    stopReloading();
    await stopAll(signal, listener);
  }
  return 0;
}

/**
 * What remote mode cannot do is refused before anything starts, never
 * half-started. The URL and id are checked first, as the reference does.
 */
async function checkRemote(remote: RemoteOptions, listen: ServeOptions["listen"]): Promise<void> {
  const { registryEndpointUrl } = await import("../remote/registry-http.ts");
  const { RegistryError } = await import("../remote/registry-error.ts");
  try {
    registryEndpointUrl(remote.baseUrl, remote.environmentId, "register");
  } catch (e) {
    throw e instanceof RegistryError ? new UsageError(e.message) : e;
  }
  // stdin is the stdio transport's: it cannot also carry a bearer or signal the end of remote mode.
  if (listen?.kind === "stdio") throw new UsageError("--remote cannot be combined with --listen stdio");
}

type RemoteHandle = { done: Promise<void>; stop(): Promise<void> };

/** Registers and starts serving (rendezvous or direct); a registration failure is exit 1 with the registry's message. */
async function startRemoteMode(exec: ExecServer, options: ServeOptions): Promise<RemoteHandle> {
  const startRemote =
    options.remote!.transport === "direct" ? (await import("../remote/direct.ts")).startDirect : (await import("../remote/serve-remote.ts")).startRemote;
  const { RegistryError } = await import("../remote/registry-error.ts");
  const stdin = stdinReader();
  try {
    const remote = await startRemote(exec, options.remote!, { env: process.env, stdin: stdin.chunks });
    // Re-registration failing later ends the executor with exit 1, like the first one.
    const failed = remote.done.catch((e) => {
      throw e instanceof RegistryError ? new UsageError(e.message) : e;
    });
    // --exit-on-stdin-close: EOF on stdin (after any bearer line) ends the executor like a signal.
    return { done: options.exitOnStdinClose ? Promise.race([failed, stdin.eof()]) : failed, stop: () => remote.stop() };
  } catch (e) {
    throw e instanceof RegistryError ? new UsageError(e.message) : e;
  }
}

/** One reader over stdin: the bearer line is read from it, then (if asked) it is drained to EOF. */
function stdinReader(): { chunks: AsyncIterable<Uint8Array>; eof(): Promise<void> } {
  type Reader = { read(): Promise<{ done: boolean; value?: Uint8Array }> };
  let reader: Reader | undefined;
  const get = (): Reader => (reader ??= Bun.stdin.stream().getReader() as unknown as Reader);
  return {
    chunks: {
      async *[Symbol.asyncIterator]() {
        for (;;) {
          const { done, value } = await get().read();
          if (done) return;
          if (value) yield value;
        }
      },
    },
    async eof() {
      while (!(await get().read()).done);
    },
  };
}

/** Until SIGINT/SIGTERM (its name), or remote mode ends on its own (its failure is thrown). */
async function untilSignal(remote: RemoteHandle | undefined): Promise<string> {
  const signal = new Promise<string>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  return Promise.race([signal, (remote?.done ?? new Promise<void>(() => {})).then(() => "end of input")]);
}

/** The answer to a peer the guard refused (logged), or undefined to go on. */
function peerReply(verdict: PeerVerdict, remote: Endpoint): HttpReply | undefined {
  if (verdict.kind === "outside") return undefined;
  const why = verdict.kind === "sandboxed" ? "the connection comes from inside an execbox sandbox" : verdict.why;
  log.warn("refused a connection", { status: 403, reason: why, peer: `${remote.address}:${remote.port}` });
  return plainReply(403, `connections from sandboxed commands are refused: ${why}`);
}

function plainReply(status: number, body: string): HttpReply {
  return { status, headers: { "content-type": "text/plain; charset=utf-8" }, body };
}

/**
 * Opens the listener; a socket error (a busy port, an address this host does
 * not have) becomes one line naming the URL and the OS's reason, exit 1, as
 * the reference reports it, instead of the runtime's dump of bundled source.
 */
function listenOrExplain<T>(scheme: "ws" | "wss", host: string, port: number, listen: () => T): T {
  try {
    return listen();
  } catch (e) {
    const shown = host.includes(":") ? `[${host}]` : host;
    throw new UsageError(`cannot listen on ${scheme}://${shown}:${port}: ${osErrorText(e)}`);
  }
}
