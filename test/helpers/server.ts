/**
 * Starts a real execbox executor (source or compiled binary) on 127.0.0.1:0 and
 * reads the bound URL from its first stdout line. Disposing kills it.
 */
import { afterAll, beforeAll } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { RawClient } from "./rpc-client.ts";
import { readFirstLine } from "./first-line.ts";

export const REPO = resolve(import.meta.dir, "../..");
export const CLI = join(REPO, "src/cli/main.ts");

/** The command that runs execbox: the compiled binary when EXECBOX_BIN is set, else the source. */
export function execboxCommand(): string[] {
  return process.env.EXECBOX_BIN ? [process.env.EXECBOX_BIN] : [process.execPath, CLI];
}

export type RunningServer = {
  url: string;
  proc: Bun.Subprocess;
  stderr: () => string;
  [Symbol.asyncDispose](): Promise<void>;
  stop(signal?: NodeJS.Signals): Promise<number>;
};

export async function startServer(
  args: string[] = [],
  options: {
    env?: Record<string, string>;
    cwd?: string;
    /** The executable to run instead of execboxCommand(). */
    command?: string[];
    /** The `--listen` URL [default: ws://127.0.0.1:0]. */
    listen?: string;
  } = {},
): Promise<RunningServer> {
  const proc = Bun.spawn([...(options.command ?? execboxCommand()), "--listen", options.listen ?? "ws://127.0.0.1:0", ...args], {
    stdout: "pipe",
    stderr: "pipe",
    stdin: "ignore",
    env: options.env ?? process.env,
    cwd: options.cwd,
  });
  let errText = "";
  void (async () => {
    for await (const c of proc.stderr) errText += new TextDecoder().decode(c);
  })();
  const url = await readFirstLine(proc.stdout, 15_000).catch((e) => {
    proc.kill("SIGKILL");
    throw new Error(`${e.message}; stderr: ${errText}`);
  });
  const stop = async (signal: NodeJS.Signals = "SIGTERM") => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    return proc.exited;
  };
  return { url, proc, stderr: () => errText, stop, [Symbol.asyncDispose]: async () => void (await stop("SIGKILL")) };
}


/** A fresh temp dir removed on dispose; tests touch nothing outside it. */
export function tempDir(prefix = "execbox-test-"): { path: string; uri: string; [Symbol.dispose](): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, uri: `file://${path}`, [Symbol.dispose]: () => rmSync(path, { recursive: true, force: true }) };
}

/**
 * For a test file: starts one executor before the tests and kills it after,
 * with one initialized client. Read `executor.server` / `executor.client` inside tests.
 */
export function sharedExecutor(args: string[] = [], options: { env?: Record<string, string> } = {}) {
  const executor = {} as { server: RunningServer; client: RawClient };
  beforeAll(async () => {
    executor.server = await startServer(args, options);
    executor.client = await RawClient.websocket(executor.server.url);
    await executor.client.initialize();
  });
  afterAll(async () => {
    await executor.server?.stop("SIGKILL");
  });
  return executor;
}

/** The shared executor's client, once its `environment/info` says it implements `extension` (src/protocol/extensions.ts). */
export async function clientWithExtension(executor: { client: RawClient }, extension: string): Promise<RawClient> {
  const info = await executor.client.ok("environment/info");
  if (info.extensions?.[extension] !== 1) throw new Error(`the executor does not advertise ${extension}: ${JSON.stringify(info.extensions)}`);
  return executor.client;
}
