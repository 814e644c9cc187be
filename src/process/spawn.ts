/**
 * The seam between the process domain and the runtime: starts a child in its
 * own process group with pipes or a PTY. Nothing above this file calls Bun.spawn.
 */
import { closeSync, constants, openSync, statSync } from "node:fs";
import { constants as osConstants } from "node:os";
import { RpcError, internalError, osErrorText, spawnError } from "../protocol/errors.ts";
import type { NativePath } from "../protocol/path-uri.ts";
import { lookupForPipe, lookupForPty } from "./program-lookup.ts";
import { OutputPipe, StdinPipe } from "./pipes.ts";
import type { PtySize } from "./pty-size.ts";
import { terminalFlow } from "./terminal-flow.ts";

/** PTY geometry the reference uses. */
export const PTY_ROWS = 24;
export const PTY_COLS = 80;
/**
 * What `closeStdin` writes to a PTY: ^D, the default VEOF. A terminal has no
 * stdin to close; in canonical mode ^D at the start of a line makes the
 * reader's read return 0 (EOF), as typing ^D does. Mid-line it only hands
 * over the pending line, and a program in raw mode (or one that changed its
 * `stty eof`) reads the byte 0x04.
 */
export const PTY_VEOF = 0x04;

export type SpawnSpec = {
  argv: string[];
  arg0?: string | null;
  /** Raw bytes when the directory's path is not UTF-8 (no sandbox wrapper then: see process-table.ts). */
  cwd: NativePath;
  env: Record<string, string>;
  tty: boolean;
  /** The PTY's initial size (tty only); PTY_ROWS x PTY_COLS without it. */
  size?: PtySize | null;
  pipeStdin: boolean;
  /** A sandbox wrapper (program and arguments, ending in `--`) the program runs under. */
  wrapper?: string[] | null;
  /** Files the wrapper reads on descriptors 3, 4, … (pipes only). */
  fdFiles?: string[];
  /** One of our descriptors the child gets as descriptor `at` (above the fdFiles'); the caller closes ours after the spawn. */
  extraFd?: { at: number; fd: number };
};

export type PtyCallbacks = { data(bytes: Uint8Array): void; end(): void };

/** A pipe's output: read `stream` to its end (or cancel it), then `close()` frees the descriptor. */
export type OutputSource = { readonly stream: ReadableStream<Uint8Array>; close(): void };

export interface Child {
  readonly pid: number;
  readonly stdout: OutputSource | null;
  readonly stderr: OutputSource | null;
  /** Resolves with the exit status; `128 + n` when killed by signal n. */
  readonly exited: Promise<number>;
  /** Writes to stdin or the PTY; rejects when the input side is gone. */
  write(bytes: Uint8Array): Promise<void>;
  readonly canWrite: boolean;
  /** No more input: the stdin pipe is closed (EOF), a PTY gets VEOF; `canWrite` is false from now on. */
  closeInput(): void;
  /** PTY only: a new size (the kernel sends SIGWINCH to the foreground process group); nothing once the terminal is closed. */
  resize(size: PtySize): void;
  /** Signals the child's whole process group (it leads its own). */
  signalGroup(signal: NodeJS.Signals): void;
  /** Frees the PTY descriptors once output is done. */
  release(): void;
  /**
   * PTY only (pipes are paused by not reading them): stops the terminal's
   * output until `resumeOutput`, so a child writing to it blocks like one
   * writing to a full pipe.
   */
  pauseOutput(): void;
  resumeOutput(): void;
}

/** Starts the child; any failure is a spawn error (-32603, with 0.171.0's `data.kind`). */
export function spawnChild(spec: SpawnSpec, pty: PtyCallbacks): Child {
  try {
    return startChild(spec, pty);
  } catch (e) {
    throw spawnError(e instanceof RpcError ? e.message : osErrorText(e));
  }
}

function startChild(spec: SpawnSpec, pty: PtyCallbacks): Child {
  if (spec.argv[0] === "") throw internalError(`missing program for ${spec.tty ? "PTY" : "pipe"} spawn`);
  // The reference's order: Rust's `Command` refuses NUL bytes before it looks at
  // anything on disk; portable-pty searches PATH first and builds the C strings after.
  if (!spec.tty) refuseNulBytes(spec);
  checkDirectory(spec.cwd);
  const cwd = spawnableCwd(spec.cwd);
  try {
    return startIn({ ...spec, cwd: cwd.path }, pty);
  } finally {
    cwd.close();
  }
}

/**
 * A cwd Bun.spawn can take. It takes text only, so a directory whose path is
 * not UTF-8 is opened and named by its descriptor's /proc link, held open
 * until the spawn returns; the child's chdir follows the link to the
 * directory itself (its getcwd is the real path).
 */
function spawnableCwd(cwd: NativePath): { path: string; close(): void } {
  if (typeof cwd === "string") return { path: cwd, close() {} };
  const fd = openSync(cwd, constants.O_RDONLY | constants.O_DIRECTORY);
  return { path: `/proc/${process.pid}/fd/${fd}`, close: () => closeSync(fd) };
}

function startIn(spec: SpawnSpec & { cwd: string }, pty: PtyCallbacks): Child {
  const program = findProgram(spec);
  if (spec.tty) refuseNulBytes(spec);
  // Under a wrapper the wrapper is what is exec'd here; it passes arg0 on itself when it can.
  const argv0 = spec.wrapper ? spec.wrapper[0]! : (spec.arg0 ?? spec.argv[0]!);
  const command = [...(spec.wrapper ?? []), program, ...spec.argv.slice(1)];
  let proc: Bun.Subprocess;
  const extraFds: number[] = [];
  const pipes = spec.tty ? null : { stdin: spec.pipeStdin ? StdinPipe.create() : null, stdout: OutputPipe.create(), stderr: OutputPipe.create() };
  try {
    if (spec.fdFiles?.length && spec.tty) throw new Error("extra descriptors cannot be passed to a PTY spawn");
    // A fresh open per spawn: the child reads from offset 0, whatever earlier children did.
    for (const path of spec.fdFiles ?? []) extraFds.push(openSync(path, "r"));
    const extra = extraStdio(extraFds, spec.extraFd);
    proc = spec.tty
      ? Bun.spawn(command, {
          cwd: spec.cwd,
          env: spec.env,
          argv0,
          // The terminal takes descriptors 0–2 whatever these say; only the extra one matters.
          ...(spec.extraFd ? { stdio: ["ignore", "ignore", "ignore", ...extra] as never } : {}),
          terminal: {
            rows: spec.size?.rows ?? PTY_ROWS,
            cols: spec.size?.cols ?? PTY_COLS,
            data: (_t, bytes) => pty.data(bytes),
            exit: () => pty.end(),
          },
        })
      : Bun.spawn(command, {
          cwd: spec.cwd,
          env: spec.env,
          argv0,
          detached: true,
          stdio: [
            pipes?.stdin?.childEnd ?? (spec.pipeStdin ? "pipe" : "ignore"),
            pipes?.stdout?.childEnd ?? "pipe",
            pipes?.stderr?.childEnd ?? "pipe",
            ...extra,
          ],
        });
  } catch (e) {
    pipes?.stdin?.close();
    pipes?.stdout?.close();
    pipes?.stderr?.close();
    throw internalError(osErrorText(e));
  } finally {
    pipes?.stdin?.spawned();
    pipes?.stdout?.spawned();
    pipes?.stderr?.spawned();
    for (const fd of extraFds) closeSync(fd);
  }
  return wrap(proc, spec, pipes);
}

/** The stdio entries from descriptor 3 on: the wrapper's files, then nothing up to the extra descriptor. */
function extraStdio(files: number[], extra: SpawnSpec["extraFd"]): (number | "ignore")[] {
  const out: (number | "ignore")[] = [...files];
  if (!extra) return out;
  if (extra.at < 3 + out.length) throw new Error(`descriptor ${extra.at} is taken by the sandbox wrapper`);
  while (3 + out.length < extra.at) out.push("ignore");
  out.push(extra.fd);
  return out;
}

type OwnPipes = { stdin: StdinPipe | null; stdout: OutputPipe | null; stderr: OutputPipe | null } | null;

/** Our pipe for an output stream, or Bun's socket pair where we have none. */
function outputSource(own: OutputPipe | null | undefined, bun: unknown): OutputSource {
  return own ?? { stream: bun as ReadableStream<Uint8Array>, close() {} };
}

/** Where stdin bytes go: our pipe, Bun's own stdin sink (platforms without pipe2), or nowhere. */
type StdinSide = { write(bytes: Uint8Array): Promise<void>; close(): void } | null;

function stdinSide(proc: Bun.Subprocess, spec: SpawnSpec, pipe: StdinPipe | null | undefined): StdinSide {
  if (spec.tty) return null;
  if (pipe) return pipe;
  const sink = (proc.stdin as Bun.FileSink | null | undefined) ?? null;
  if (!sink) return null;
  return {
    async write(bytes) {
      sink.write(bytes);
      await sink.flush();
    },
    close: () => void Promise.resolve(sink.end()).catch(() => {}),
  };
}

function wrap(proc: Bun.Subprocess, spec: SpawnSpec, pipes: OwnPipes): Child {
  const stdin = stdinSide(proc, spec, pipes?.stdin);
  const terminal = proc.terminal;
  const flow = terminal ? terminalFlow(terminal, proc.pid) : null;
  let inputClosed = false;
  return {
    pid: proc.pid,
    stdout: pipes ? outputSource(pipes.stdout, proc.stdout) : null,
    stderr: pipes ? outputSource(pipes.stderr, proc.stderr) : null,
    exited: proc.exited.then(() => {
      flow?.childExited();
      // The child is gone: its stdin goes too (a grandchild still holding it reads EOF).
      stdin?.close();
      return exitStatus(proc);
    }),
    get canWrite() {
      return !inputClosed && (spec.tty || stdin !== null);
    },
    closeInput() {
      if (inputClosed) return;
      inputClosed = true;
      if (terminal && !terminal.closed) terminal.write(new Uint8Array([PTY_VEOF]));
      stdin?.close();
    },
    async write(bytes) {
      if (terminal) {
        if (terminal.closed) throw new Error("pty closed");
        terminal.write(bytes);
        return;
      }
      if (!stdin) throw new Error("stdin closed");
      await stdin.write(bytes);
    },
    resize(size) {
      if (terminal && !terminal.closed) terminal.resize(size.cols, size.rows);
    },
    signalGroup(signal) {
      try {
        process.kill(-proc.pid, signal);
      } catch {
        try {
          proc.kill(signal);
        } catch {
          // Already gone: nothing to signal.
        }
      }
    },
    release() {
      if (terminal && !terminal.closed) terminal.close();
    },
    pauseOutput: () => flow?.pause(),
    resumeOutput: () => flow?.resume(),
  };
}

function exitStatus(proc: Bun.Subprocess): number {
  if (proc.signalCode) return 128 + (osConstants.signals as Record<string, number>)[proc.signalCode]!;
  return proc.exitCode ?? 0;
}

/** A C string cannot hold NUL: the reference's texts for an argument (or arg0), then for an environment entry. */
function refuseNulBytes(spec: SpawnSpec): void {
  if ([...spec.argv, spec.arg0 ?? ""].some((a) => a.includes("\0"))) throw internalError(NUL_IN_ARGUMENT);
  if (Object.entries(spec.env).some(([k, v]) => k.includes("\0") || v.includes("\0"))) throw internalError(NUL_IN_ENVIRONMENT);
}

/** Rust's `Command` text for an argument holding a NUL byte. */
const NUL_IN_ARGUMENT = "nul byte found in provided data";
/** Rust's text for an environment entry holding a NUL byte. */
const NUL_IN_ENVIRONMENT = "data provided contains a nul byte";

function checkDirectory(cwd: NativePath): void {
  let st;
  try {
    st = statSync(cwd);
  } catch (e) {
    throw internalError(osErrorText(e));
  }
  if (!st.isDirectory()) throw internalError(osErrorText({ code: "ENOTDIR" }));
}

/** The program to exec, found through the child's own PATH (see program-lookup.ts). */
function findProgram(spec: SpawnSpec & { cwd: string }): string {
  const name = spec.argv[0]!;
  if (spec.tty) return lookupForPty(name, spec.cwd, spec.env.PATH);
  const path = lookupForPipe(name, spec.cwd, spec.env.PATH);
  // A wrapper execs from wherever it sets up the sandbox: give it the path the child would have resolved.
  return spec.wrapper && !path.startsWith("/") ? `${spec.cwd}/${path}` : path;
}
