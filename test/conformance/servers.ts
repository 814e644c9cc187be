/**
 * Starting and stopping the two executors under comparison. Both get the same
 * environment and working directory so that anything they report from their
 * surroundings is comparable; each is killed (SIGTERM, then SIGKILL) at the end.
 */
import { mkdirSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { readFirstLine } from "../helpers/first-line.ts";
import { NEWEST_REFERENCE } from "../helpers/reference-bin.ts";
import { ensureReference } from "../helpers/install-reference.ts";

const EXECBOX_CLI = resolve(import.meta.dir, "../../src/cli/main.ts");

export type Side = "reference" | "execbox";

export type Server = {
  side: Side;
  url: string;
  proc: Bun.Subprocess<"ignore", "pipe", "pipe">;
  stderr: () => string;
  alive: () => boolean;
  stop: () => Promise<void>;
};

/** Sessions execbox holds during a run (see commandFor). */
const CONFORMANCE_MAX_SESSIONS = 4096;

let referenceBin: string | null = null;

/** Picks the reference for this run: CODEX_BIN, else `version` (installed from npm into .reference/ if missing). */
export function useReference(version: string = NEWEST_REFERENCE): string {
  referenceBin = process.env.CODEX_BIN ?? ensureReference(version);
  return referenceBin;
}

/** The command for one side. */
export function commandFor(side: Side): string[] {
  // A run opens hundreds of sessions within the 80 s a detached one is kept: more than execbox's
  // default cap of 128 (README, Limits; the reference has none), which would refuse the rest.
  if (side === "execbox") return [process.execPath, EXECBOX_CLI, "--max-sessions", String(CONFORMANCE_MAX_SESSIONS)];
  return [referenceBin ?? useReference(), "exec-server"];
}

/**
 * The environment both servers run with. The CONF_* variables exist so the
 * envPolicy scenarios can print values we chose ourselves; CODEX_HOME points
 * into the run dir so the reference never writes to the real ~/.codex.
 */
export function serverEnv(runDir: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  return {
    ...env,
    // A program only the server's own PATH finds (see probe/lookup-*).
    PATH: `${serverBin(runDir)}:${env.PATH ?? "/usr/bin:/bin"}`,
    CODEX_HOME: join(runDir, "codex-home"),
    LANG: "C.UTF-8",
    CONF_PLAIN: "plain-value",
    CONF_API_KEY: "key-value",
    CONF_MY_SECRET: "secret-value",
    conf_lower_token: "token-value",
    CONF_DROP_ME: "drop-value",
    // http/request valueEnvVar appends this to the header value (README §14.1).
    EXAMPLE_TOKEN: "example-token-value",
  };
}

/** The run's `server-bin` dir, holding `conf-server-tool`, a program found only through the servers' PATH. */
export function serverBin(runDir: string): string {
  const dir = join(runDir, "server-bin");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "conf-server-tool"), "#!/bin/sh\necho conf-server-tool \"$@\"\n", { mode: 0o755 });
  // The reference's sandboxed fs helper execs `codex-linux-sandbox` from PATH (its npm wrapper provides
  // the alias; the bare binary does not): without it every sandboxed fs/* call fails on the reference.
  const alias = join(dir, "codex-linux-sandbox");
  rmSync(alias, { force: true });
  // Canonical: a sandbox that grants the binary's real path does not show a symlinked directory on the way to it.
  symlinkSync(realpathSync(commandFor("reference")[0]!), alias);
  return dir;
}

export async function startServer(side: Side, runDir: string): Promise<Server> {
  const proc = Bun.spawn([...commandFor(side), "--listen", "ws://127.0.0.1:0"], {
    cwd: join(runDir, "cwd"),
    env: serverEnv(runDir),
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const { stderr, alive, stop } = supervise(proc);
  try {
    // npx may have to download the package first, hence the generous deadline.
    const url = await readFirstLine(proc.stdout, side === "reference" ? 120_000 : 20_000);
    if (!/^ws:\/\/127\.0\.0\.1:\d+$/.test(url)) throw new Error(`unexpected first stdout line ${JSON.stringify(url)}`);
    return { side, url, proc, stderr, alive, stop };
  } catch (e) {
    await stop();
    throw new Error(`${side} did not start: ${(e as Error).message}\n${stderr()}`);
  }
}


/** Keeps the last 20 KB of a server's stderr (an unread pipe could stall it) and stops it: SIGTERM, then SIGKILL after 5 s. */
export function supervise(proc: Bun.Subprocess<"ignore", "pipe" | "ignore", "pipe">): Pick<Server, "stderr" | "alive" | "stop"> {
  let errText = "";
  void (async () => {
    for await (const c of proc.stderr) errText = (errText + new TextDecoder().decode(c)).slice(-20_000);
  })();
  const alive = () => proc.exitCode === null && proc.signalCode === null;
  const stop = async () => {
    if (!alive()) return;
    proc.kill("SIGTERM"); // graceful: both executors kill their managed processes on SIGTERM
    const done = await Promise.race([proc.exited.then(() => true), Bun.sleep(5_000).then(() => false)]);
    if (!done) {
      proc.kill("SIGKILL");
      await proc.exited;
    }
  };
  return { stderr: () => errText, alive, stop };
}
