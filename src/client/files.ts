/**
 * Streaming file reads over `fs/open` + `fs/readBlock`: a whole file never has
 * to fit in one JSON message (base64 inflates it by a third, and messages are
 * capped at 16 MiB), and memory stays at one block.
 */
import { toPathUri } from "../protocol/path-uri.ts";
import type { ResultOf } from "../protocol/methods.ts";
import { ExecboxConnectionError } from "./errors.ts";
import type { CallArgs, CallableMethod } from "./types.ts";

/** The largest block `fs/readBlock` serves. */
export const FILE_BLOCK_BYTES = 1024 * 1024;

export interface FileHost {
  call<M extends CallableMethod>(method: M, ...args: CallArgs<M>): Promise<ResultOf<M>>;
  /** Changes whenever a new connection is attached; handles belong to one connection. */
  readonly connectionEpoch: number;
}

/** An open remote file: iterate it for its blocks; the handle closes at the end, on `break`, or with `close()`. */
export interface RemoteFile extends AsyncIterable<Uint8Array> {
  readonly handleId: string;
  close(): Promise<void>;
}

/** `file:` URIs pass through; absolute native paths are turned into one. */
export function toFileUri(path: string): string {
  if (/^file:/i.test(path)) return path;
  if (!path.startsWith("/")) throw new Error(`not an absolute path or file: URI: ${path}`);
  return toPathUri(path);
}

export async function openRemoteFile(host: FileHost, path: string, blockBytes = FILE_BLOCK_BYTES): Promise<RemoteFile> {
  // Handle ids are at most 32 bytes; a UUID without dashes is exactly that.
  const handleId = crypto.randomUUID().replaceAll("-", "");
  await host.call("fs/open", { handleId, path: toFileUri(path), mode: "read" });
  const epoch = host.connectionEpoch;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    // After a reconnect the executor has already dropped the handle.
    if (host.connectionEpoch !== epoch) return;
    await host.call("fs/close", { handleId }).catch(() => {});
  };
  async function* blocks(): AsyncGenerator<Uint8Array> {
    try {
      for (let offset = 0; ; ) {
        if (closed) return;
        if (host.connectionEpoch !== epoch) {
          throw new ExecboxConnectionError("the connection was replaced; the executor dropped this file handle", "fs/readBlock");
        }
        const r = await host.call("fs/readBlock", { handleId, offset, len: blockBytes });
        const bytes: Uint8Array = Buffer.from(r.chunk, "base64");
        if (bytes.byteLength > 0) {
          offset += bytes.byteLength;
          yield bytes;
        }
        if (r.eof || bytes.byteLength === 0) return;
      }
    } finally {
      await close();
    }
  }
  const iterator = blocks();
  return { handleId, close, [Symbol.asyncIterator]: () => iterator };
}

/** Reads a whole remote file block by block. */
export async function readRemoteFile(host: FileHost, path: string): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const block of await openRemoteFile(host, path)) parts.push(block);
  return Buffer.concat(parts);
}
