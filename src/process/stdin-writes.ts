/**
 * `process/write`: bytes to the child's stdin (or PTY), deduplicated by the
 * client's `writeId` so a retried write is not delivered twice; with
 * `closeStdin` the input is closed after the bytes (then every later write
 * answers `stdinClosed`).
 */
import { internalError } from "../protocol/errors.ts";
import type { WriteStatus } from "../protocol/messages/process.ts";

export type StdinTarget = { readonly canWrite: boolean; write(bytes: Uint8Array): Promise<void>; closeInput(): void };

export class StdinWrites {
  private readonly seen = new Set<string>();

  constructor(private readonly child: StdinTarget) {}

  /** `running`: whether the child has not exited yet (a write after that is an error, as in the reference). */
  async write(writeId: string, bytes: Uint8Array, running: boolean, closeStdin = false): Promise<WriteStatus> {
    if (this.seen.has(writeId)) return "accepted";
    if (!this.child.canWrite) return "stdinClosed";
    if (!running) throw internalError("failed to write to process stdin");
    this.seen.add(writeId);
    if (bytes.byteLength > 0) {
      try {
        await this.child.write(bytes);
      } catch {
        // Not delivered: a retry with the same id may try again.
        this.seen.delete(writeId);
        throw internalError("failed to write to process stdin");
      }
    }
    if (closeStdin) this.child.closeInput();
    return "accepted";
  }
}
