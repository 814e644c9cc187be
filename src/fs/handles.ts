/**
 * `fs/open` / `fs/readBlock` / `fs/writeBlock` / `fs/close`: positional block
 * I/O on descriptors a connection holds open between calls, so a stream keeps
 * reading the file it opened even after its path is replaced or unlinked.
 * Handles belong to the connection and are closed when it ends.
 */
import { invalidRequest, notFound } from "../protocol/errors.ts";
import { BlockResult } from "./base64-result.ts";
import { type BlockFile, blockFile, openBlockFd } from "./block-file.ts";
import { fsCall } from "./files.ts";
import type { NativePath } from "../protocol/path-uri.ts";
import { osError } from "./paths.ts";

/** Open handles per connection (the reference's cap); read and write share it. */
export const MAX_OPEN_FILE_HANDLES = 128;
/** Longest handle id, in UTF-8 bytes. */
export const MAX_HANDLE_ID_BYTES = 32;
/** Largest block a single readBlock/writeBlock moves. */
export const MAX_BLOCK_BYTES = 1024 * 1024;
/**
 * One past the largest file offset (`off_t` is a signed 64-bit integer): a
 * read there is EINVAL, a write reaching it is refused, as the reference does.
 */
const OFFSET_LIMIT = 2n ** 63n;

/** The reference's text for a write whose last byte would sit at or past OFFSET_LIMIT. */
const WRITE_RANGE_TOO_FAR = "file write range exceeds the signed 64-bit file offset limit";

/** Handle ids are checked on every call that names one, before anything else (as the reference). */
function checkHandleId(handleId: string): void {
  if (Buffer.byteLength(handleId) > MAX_HANDLE_ID_BYTES) {
    throw invalidRequest(`file handle ID must not exceed ${MAX_HANDLE_ID_BYTES} bytes`);
  }
}

/** Reads until the buffer is full or the file ends (pread may return less than asked). */
async function readFully(fh: BlockFile, buffer: Buffer, offset: number): Promise<number> {
  let total = 0;
  while (total < buffer.length) {
    const { bytesRead } = await fh.read(buffer, total, buffer.length - total, offset + total);
    if (bytesRead === 0) break;
    total += bytesRead;
  }
  return total;
}

type OpenFile = { fh: BlockFile; mode: "read" | "replace" };
type Mode = OpenFile["mode"];

export class FileHandleTable {
  private readonly files = new Map<string, OpenFile>();
  /** Opens under way: they count against the cap, so concurrent opens (a sandboxed one takes a helper run) cannot pass it. */
  private pending = 0;
  /** Set by closeAll: an open finishing after the connection ended closes its file instead of keeping it. */
  private closed = false;
  /** A block buffer handed back after its reply was encoded, for the next read. */
  private spare: Buffer | null = null;

  /** Opens `path` here (no sandbox, or one that leaves the file system unrestricted). */
  open(handleId: string, path: NativePath, mode: Mode): Promise<{ handleId: string }> {
    return this.adopt(handleId, mode, async () => blockFile(await openBlockFd(path, mode)));
  }

  /** Keeps the file `opener` opens (here, or in the sandboxed fs helper) under `handleId`, after the id and cap checks. */
  async adopt(handleId: string, mode: Mode, opener: () => Promise<BlockFile>): Promise<{ handleId: string }> {
    checkHandleId(handleId);
    if (this.files.has(handleId)) throw invalidRequest(`file handle \`${handleId}\` already exists`);
    if (this.files.size + this.pending >= MAX_OPEN_FILE_HANDLES) {
      throw invalidRequest(`at most ${MAX_OPEN_FILE_HANDLES} file handles may be open per connection`);
    }
    this.pending++;
    const fh = await fsCall(opener).finally(() => this.pending--);
    // The connection may have ended, or a second open of the same id raced us, while we awaited.
    if (this.closed || this.files.has(handleId)) {
      await fh.close().catch(() => undefined);
      throw invalidRequest(this.closed ? "connection closed" : `file handle \`${handleId}\` already exists`);
    }
    this.files.set(handleId, { fh, mode });
    return { handleId };
  }

  async readBlock(handleId: string, offset: number, len: number): Promise<BlockResult> {
    checkHandleId(handleId);
    if (len < 1 || len > MAX_BLOCK_BYTES) {
      throw invalidRequest(`file read block length must be between 1 and ${MAX_BLOCK_BYTES}`);
    }
    const file = this.get(handleId);
    return fsCall(async () => {
      // lseek refuses an offset past off_t's range, whatever the handle's mode.
      if (BigInt(offset) >= OFFSET_LIMIT) throw osError("EINVAL");
      if (file.mode !== "read") throw osError("EBADF");
      // Past 2^53 - 1 (the largest offset Node's pread takes) no file has bytes: end of file, as the reference's pread says.
      if (!Number.isSafeInteger(offset)) return new BlockResult(Buffer.alloc(0), true, () => {});
      const buffer = this.spare && this.spare.length >= len ? this.spare : Buffer.allocUnsafeSlow(len);
      if (buffer === this.spare) this.spare = null;
      const bytesRead = await readFully(file.fh, buffer.subarray(0, len), offset);
      // As the reference: eof means the read came back short, so a block ending
      // exactly at the end of the file is not yet eof; the next read returns "" and eof.
      return new BlockResult(buffer.subarray(0, bytesRead), bytesRead < len, () => {
        if (!this.spare || this.spare.length < buffer.length) this.spare = buffer;
      });
    });
  }

  async writeBlock(handleId: string, offset: number, chunk: Uint8Array): Promise<{}> {
    checkHandleId(handleId);
    if (chunk.byteLength < 1 || chunk.byteLength > MAX_BLOCK_BYTES) {
      throw invalidRequest(`file write block length must be between 1 and ${MAX_BLOCK_BYTES}`);
    }
    const file = this.get(handleId);
    if (BigInt(offset) + BigInt(chunk.byteLength) > OFFSET_LIMIT) throw invalidRequest(WRITE_RANGE_TOO_FAR);
    return fsCall(async () => {
      if (file.mode !== "replace") throw osError("EBADF");
      // Past 2^53 - 1 (the largest offset Node's pwrite takes) is past every Linux file system's size limit but btrfs/XFS's: EFBIG, as ext4 answers.
      if (!Number.isSafeInteger(offset + chunk.byteLength)) throw osError("EFBIG");
      let written = 0;
      while (written < chunk.byteLength) {
        const { bytesWritten } = await file.fh.write(chunk, written, chunk.byteLength - written, offset + written);
        written += bytesWritten;
      }
      return {};
    });
  }

  async close(handleId: string): Promise<{}> {
    checkHandleId(handleId);
    const file = this.files.get(handleId);
    this.files.delete(handleId);
    await file?.fh.close().catch(() => undefined);
    return {};
  }

  /** Connection shutdown: close every descriptor. */
  async closeAll(): Promise<void> {
    this.closed = true;
    const all = [...this.files.values()];
    this.files.clear();
    this.spare = null;
    await Promise.all(all.map((f) => f.fh.close().catch(() => undefined)));
  }

  get size(): number {
    return this.files.size;
  }

  private get(handleId: string): OpenFile {
    const file = this.files.get(handleId);
    if (!file) throw notFound(`unknown file handle \`${handleId}\``);
    return file;
  }
}
