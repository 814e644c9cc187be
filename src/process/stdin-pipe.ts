/**
 * A child's stdin as a real pipe, as the reference gives it with
 * `pipeStdin` (programs test `[ -p /dev/stdin ]`): Bun's own
 * `stdin: "pipe"` is a socket pair. The read end goes to the child; the
 * write end is written through Bun's FileSink, which polls a non-blocking
 * pipe, so a child that does not read never blocks the executor.
 */
import { closeSync } from "node:fs";
import { openLibc } from "../platform/libc.ts";

const O_CLOEXEC = 0o2000000;

export class StdinPipe {
  private sink: Bun.FileSink | null;
  private open = true;

  private constructor(
    /** The read end, for the child's descriptor 0 (close-on-exec here; the spawn's dup2 clears it there). */
    readonly childEnd: number,
    private readonly writeEnd: number,
  ) {
    this.sink = Bun.file(writeEnd).writer();
  }

  /** A new pipe, or null where the platform has no pipe2 (Bun's socket pair is used there). */
  static create(): StdinPipe | null {
    if (process.platform !== "linux") return null;
    const fds = new Int32Array(2);
    // Both ends close-on-exec: no other child may inherit the write end, or this child would never see EOF.
    if (openLibc().pipe2(fds, O_CLOEXEC) !== 0) throw new Error(`pipe2 failed (errno ${openLibc().errno()})`);
    return new StdinPipe(fds[0]!, fds[1]!);
  }

  /** The child has its copy (or the spawn failed): the executor's read end goes. */
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
