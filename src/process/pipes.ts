/**
 * A pipe child's stdio as real pipes, as the reference gives them (programs
 * test `[ -p /dev/stdin ]` and `[ -p /dev/stdout ]`): Bun's own `"pipe"` is
 * a socket pair. Both ends are made close-on-exec here; the spawn's dup2
 * onto 0, 1 and 2 clears the flag on the child's copies, and no other child
 * inherits an end (or a reader would never see EOF).
 */
import { closeSync } from "node:fs";
import { openLibc } from "../platform/libc.ts";

const O_CLOEXEC = 0o2000000;

/** [read end, write end], or null where the platform has no pipe2 (Bun's socket pairs are used there). */
function openPipe(): [number, number] | null {
  if (process.platform !== "linux") return null;
  const fds = new Int32Array(2);
  if (openLibc().pipe2(fds, O_CLOEXEC) !== 0) throw new Error(`pipe2 failed (errno ${openLibc().errno()})`);
  return [fds[0]!, fds[1]!];
}

/**
 * stdin: the read end goes to the child; the write end is written through
 * Bun's FileSink, which polls a non-blocking pipe, so a child that does not
 * read never blocks the executor.
 */
export class StdinPipe {
  private sink: Bun.FileSink | null;
  private open = true;

  private constructor(
    readonly childEnd: number,
    private readonly writeEnd: number,
  ) {
    this.sink = Bun.file(writeEnd).writer();
  }

  static create(): StdinPipe | null {
    const ends = openPipe();
    return ends && new StdinPipe(ends[0], ends[1]);
  }

  /** The child has its copy (or the spawn failed): the executor's copy of the child's end goes. */
  spawned(): void {
    closeSync(this.childEnd);
  }

  /** Resolves once the child's pipe has taken every byte; rejects if the child closed its end. */
  async write(bytes: Uint8Array): Promise<void> {
    if (!this.sink) throw new Error("stdin closed");
    this.sink.write(bytes);
    await this.sink.flush();
  }

  /** Closes the write end (idempotent): the child reads EOF. */
  close(): void {
    if (!this.open) return;
    this.open = false;
    const sink = this.sink;
    this.sink = null;
    // The FileSink does not own a descriptor it was given: end it, then close the descriptor ourselves.
    void Promise.resolve()
      .then(() => sink?.end())
      .catch(() => {})
      .finally(() => closeSync(this.writeEnd));
  }
}

/**
 * stdout or stderr: the write end goes to the child; the read end is read
 * through Bun's file stream, which polls the pipe and returns about one
 * pipe buffer (64 KiB; under load, once, 72 KiB: what refilled while its
 * read completed) per read, and reads nothing while no read is pending.
 * (Bun's own subprocess pipes read on while they can: under CPU load one read
 * was seen returning 8.5 MiB, past every bound the flow control keeps.)
 */
export class OutputPipe {
  readonly stream: ReadableStream<Uint8Array>;
  private open = true;

  private constructor(
    private readonly readEnd: number,
    readonly childEnd: number,
  ) {
    this.stream = Bun.file(readEnd).stream();
  }

  static create(): OutputPipe | null {
    const ends = openPipe();
    return ends && new OutputPipe(ends[0], ends[1]);
  }

  /** The child has its copy (or the spawn failed): without ours, the reader sees EOF once the child's copies close. */
  spawned(): void {
    closeSync(this.childEnd);
  }

  /** After the last read (EOF or cancel): Bun's file stream does not close a descriptor it was given. */
  close(): void {
    if (!this.open) return;
    this.open = false;
    closeSync(this.readEnd);
  }
}
