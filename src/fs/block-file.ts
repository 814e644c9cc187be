/**
 * Files held open for fs/readBlock and fs/writeBlock, as raw descriptors: one
 * the executor opened (openBlockFd), or one the sandboxed fs helper opened
 * inside its sandbox and passed over (src/platform/fd-passing.ts). Reads and
 * writes are positional (pread/pwrite on libuv's pool), so nothing is
 * buffered beyond the block asked for.
 */
import { close, constants, fstat, open, read, stat, write } from "node:fs";
import { promisify } from "node:util";
import type { NativePath } from "../protocol/path-uri.ts";
import { notAFile } from "./files.ts";
import { osError } from "./paths.ts";

const openAsync = promisify(open);
const statAsync = promisify(stat);
const fstatAsync = promisify(fstat);
const closeAsync = promisify(close);

export type BlockFile = {
  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  write(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesWritten: number }>;
  close(): Promise<void>;
};

export function blockFile(fd: number): BlockFile {
  return {
    read: (buffer, offset, length, position) =>
      new Promise((resolve, reject) => read(fd, buffer, offset, length, position, (e, bytesRead) => (e ? reject(e) : resolve({ bytesRead })))),
    write: (buffer, offset, length, position) =>
      new Promise((resolve, reject) =>
        write(fd, buffer, offset, length, position, (e, bytesWritten) => (e ? reject(e) : resolve({ bytesWritten }))),
      ),
    close: () => closeAsync(fd),
  };
}

/**
 * Opens `path` for block I/O, with the reference's errors: `read` needs a
 * regular file (a socket is ENXIO, anything else "is not a file"), `replace`
 * creates or truncates. The read open does not block on a FIFO swapped in
 * after the check (O_NONBLOCK), and the descriptor itself is checked again
 * (libuv opens close-on-exec).
 * Throws OS errors (callers map them with fsCall).
 */
export async function openBlockFd(path: NativePath, mode: "read" | "replace"): Promise<number> {
  if (mode === "replace") return openAsync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, 0o666);
  // stat first: opening a FIFO for reading would block until a writer appears.
  const st = await statAsync(path);
  // A socket cannot be opened at all: the kernel's ENXIO, as the reference reports.
  if (st.isSocket()) throw osError("ENXIO");
  if (!st.isFile()) throw notAFile(path);
  const fd = await openAsync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  await requireRegularFile(fd, path);
  return fd;
}

/** Closes `fd` and throws "is not a file" unless it is a regular file. */
export async function requireRegularFile(fd: number, path: NativePath): Promise<void> {
  const ok = await fstatAsync(fd).then((s) => s.isFile(), () => false);
  if (ok) return;
  await closeAsync(fd).catch(() => undefined);
  throw notAFile(path);
}
