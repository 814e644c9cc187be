/**
 * Spawning and reaping the executors under test. Every server is started in
 * its own process group and remembered, so a crash, Ctrl-C or normal exit
 * kills all of them (see `killAll`, hooked into process exit by `run.ts`).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { COMPILE_FLAGS } from "../build.ts";
import { readFirstLine } from "../test/helpers/first-line.ts";
import { ensureReference } from "../test/helpers/install-reference.ts";
import { NEWEST_REFERENCE, binaryVersion } from "../test/helpers/reference-bin.ts";

export const REPO = resolve(import.meta.dir, "..");

export type ServerKind = "execbox" | "reference";

/** How to start one kind of executor; the listen flags are appended. */
export type ServerCommand = { kind: ServerKind; label: string; argv: string[] };

export type RunningServer = {
  kind: ServerKind;
  pid: number;
  url: string;
  /** ms from spawn to the URL line on stdout. */
  urlAfterMs: number;
  spawnedAt: number;
  stderr(): string;
  kill(): Promise<void>;
};

const live = new Set<Bun.Subprocess>();
const tempDirs: string[] = [];

/** Synchronous, so it is safe in `process.on("exit")`. */
export function killAll(): void {
  for (const proc of live) killGroup(proc.pid);
  live.clear();
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
}

export function makeTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

/**
 * The execbox command: `$EXECBOX_BIN`, or (default) a binary compiled now from
 * the current source into a temp dir, or `bun src/cli/main.ts` with `source`.
 */
export function execboxCommand(source: boolean): ServerCommand {
  const fromEnv = process.env.EXECBOX_BIN;
  if (fromEnv) return { kind: "execbox", label: `execbox (${fromEnv})`, argv: [fromEnv] };
  if (source) {
    return { kind: "execbox", label: "execbox (bun src/cli/main.ts)", argv: [process.execPath, join(REPO, "src/cli/main.ts")] };
  }
  const out = join(makeTempDir("execbox-bench-"), "execbox");
  const t0 = performance.now();
  // The same flags as build.ts, so the benchmark measures what users download.
  const build = Bun.spawnSync([process.execPath, "build", ...COMPILE_FLAGS, "src/cli/main.ts", "--outfile", out], {
    cwd: REPO,
    stdout: "pipe",
    stderr: "pipe",
  });
  if (build.exitCode !== 0) throw new Error(`bun build --compile failed:\n${build.stderr.toString()}`);
  console.error(`built ${out} in ${(performance.now() - t0).toFixed(0)} ms`);
  return { kind: "execbox", label: "execbox (compiled)", argv: [out] };
}

/** The newest reference (installed into .reference/ on first use), or CODEX_BIN. */
export function referenceCommand(): ServerCommand {
  const path = process.env.CODEX_BIN ?? ensureReference(NEWEST_REFERENCE);
  return { kind: "reference", label: `codex exec-server ${binaryVersion(path) ?? "(unknown version)"}`, argv: [path, "exec-server"] };
}

/**
 * Spawns `argv` in its own process group, remembered for `killAll`; stderr is
 * drained into `stderr()`. With `ipc`, the child is a Bun script talking over
 * Bun's IPC channel (`process.send`).
 */
export function spawnTracked(argv: string[], env?: Record<string, string>, ipc?: (message: unknown) => void) {
  const proc = Bun.spawn(argv, { stdin: "ignore", stdout: "pipe", stderr: "pipe", detached: true, env, ...(ipc ? { ipc } : {}) });
  live.add(proc);
  let errText = "";
  void (async () => {
    const dec = new TextDecoder();
    for await (const c of proc.stderr) errText += dec.decode(c, { stream: true });
  })().catch(() => {});
  const kill = async () => {
    killGroup(proc.pid);
    live.delete(proc);
    await proc.exited;
  };
  return { proc, stderr: () => errText, kill };
}

export async function startServer(cmd: ServerCommand, timeoutMs = 15_000): Promise<RunningServer> {
  const spawnedAt = performance.now();
  const { proc, stderr, kill } = spawnTracked([...cmd.argv, "--listen", "ws://127.0.0.1:0"]);
  try {
    const url = await readFirstLine(proc.stdout, timeoutMs);
    const urlAfterMs = performance.now() - spawnedAt;
    if (!url.startsWith("ws://")) throw new Error(`unexpected first line ${JSON.stringify(url)}`);
    return { kind: cmd.kind, pid: proc.pid, url, urlAfterMs, spawnedAt, stderr, kill };
  } catch (e) {
    await kill();
    throw new Error(`${cmd.label}: ${(e as Error).message}; stderr: ${stderr().slice(0, 2000)}`);
  }
}


/**
 * Resets a process's peak RSS (VmHWM) to its current RSS (Linux:
 * `/proc/<pid>/clear_refs`, value 5), so a VmHWM read afterwards is the peak
 * of what ran since: a measured run after a warm-up, not the warm-up's peak.
 */
export function resetPeakRss(pid: number): void {
  writeFileSync(`/proc/${pid}/clear_refs`, "5");
}

/** A field of /proc/<pid>/status in KiB (VmRSS, VmHWM, …). */
export function procStatusKiB(pid: number, field: string): number {
  const text = readFileSync(`/proc/${pid}/status`, "utf8");
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(text);
  if (!m) throw new Error(`${field} missing in /proc/${pid}/status`);
  return Number(m[1]);
}

export function machineInfo(): { nproc: number; cpu: string; kernel: string } {
  const cpuinfo = readFileSync("/proc/cpuinfo", "utf8");
  const cpu = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? "unknown";
  const nproc = navigator.hardwareConcurrency;
  let kernel = "unknown";
  try {
    kernel = readFileSync("/proc/sys/kernel/osrelease", "utf8").trim();
  } catch {
    // Not Linux?
  }
  return { nproc, cpu, kernel };
}

/** Runs a benchmark script's `main`, killing every server it started on exit, a signal or a failure. */
export async function runBench(name: string, main: () => Promise<void>): Promise<void> {
  process.on("exit", killAll);
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(sig, () => (killAll(), process.exit(130)));
  try {
    await main();
  } catch (e) {
    console.error(`[${name}] failed: ${(e as Error).stack ?? String(e)}`);
    process.exitCode = 1;
  } finally {
    killAll();
  }
}

/** The servers a script measures, in order: execbox then the reference, or only one (`--only execbox|reference`). */
export function chosenServers(only: string, source: boolean): ServerCommand[] {
  return [...(only !== "reference" ? [execboxCommand(source)] : []), ...(only !== "execbox" ? [referenceCommand()] : [])];
}
