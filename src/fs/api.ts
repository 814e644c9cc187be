/**
 * fs/* handlers: wire params (file: URIs, defaults) → the filesystem domain.
 * These run unsandboxed; `sandbox` intent is handled first by sandboxed.ts.
 */
import type { z } from "zod";
import type * as m from "../protocol/messages/fs.ts";
import type { FsHelperMethod, ParamsOf, ResultOf } from "../protocol/methods.ts";
import { parsePathUri } from "../protocol/path-uri.ts";
import * as files from "./files.ts";
import type { FileHandleTable } from "./handles.ts";
import type { MissingWatches } from "./watch-missing.ts";
import { walk } from "./walk.ts";

type P<T extends z.ZodType> = z.output<T>;

/** What fs handlers need from the connection: its open files and watches. */
export type FsConnection = { files: FileHandleTable; watches: MissingWatches };

export const fsApi = {
  readFile: (p: P<typeof m.FsReadFileParams>) => files.readFile(parsePathUri(p.path), p.followSymlinks ?? true),
  writeFile: (p: P<typeof m.FsWriteFileParams>) =>
    files.writeFile(parsePathUri(p.path), p.dataBase64, p.followSymlinks ?? true),
  createDirectory: (p: P<typeof m.FsCreateDirectoryParams>) =>
    files.createDirectory(parsePathUri(p.path), p.recursive ?? true, p.followSymlinks ?? true),
  getMetadata: (p: P<typeof m.FsGetMetadataParams>) => files.getMetadata(parsePathUri(p.path), p.followSymlinks ?? true),
  readDirectory: (p: P<typeof m.FsReadDirectoryParams>) => files.readDirectory(parsePathUri(p.path)),
  remove: (p: P<typeof m.FsRemoveParams>) =>
    files.remove(parsePathUri(p.path), p.recursive ?? true, p.force ?? true, p.followSymlinks ?? true),
  copy: (p: P<typeof m.FsCopyParams>) =>
    files.copy(parsePathUri(p.sourcePath), parsePathUri(p.destinationPath), p.recursive),
  canonicalize: (p: P<typeof m.FsCanonicalizeParams>) => files.canonicalize(parsePathUri(p.path)),
  walk: (p: P<typeof m.FsWalkParams>) => walk(parsePathUri(p.path), p.options, p.path),
  open: (c: FsConnection, p: P<typeof m.FsOpenParams>) => c.files.open(p.handleId, parsePathUri(p.path), p.mode ?? "read"),
  readBlock: (c: FsConnection, p: P<typeof m.FsReadBlockParams>) => c.files.readBlock(p.handleId, p.offset, p.len),
  writeBlock: (c: FsConnection, p: P<typeof m.FsWriteBlockParams>) => c.files.writeBlock(p.handleId, p.offset, p.chunk),
  close: (c: FsConnection, p: P<typeof m.FsCloseParams>) => c.files.close(p.handleId),
  watchMissing: (c: FsConnection, p: P<typeof m.FsWatchMissingParams>) =>
    c.watches.add(p.watchId, p.present, p.missing),
};

/**
 * The one-shot operations by wire method — exactly those the method table
 * marks `restrictedFs: "helper"`: run here when unsandboxed, and by the fs
 * helper under a restricted policy.
 */
export const fsOneShot: { [M in FsHelperMethod]: (p: ParamsOf<M>) => ResultOf<M> | Promise<ResultOf<M>> } = {
  "fs/readFile": fsApi.readFile,
  "fs/writeFile": fsApi.writeFile,
  "fs/createDirectory": fsApi.createDirectory,
  "fs/getMetadata": fsApi.getMetadata,
  "fs/readDirectory": fsApi.readDirectory,
  "fs/remove": fsApi.remove,
  "fs/copy": fsApi.copy,
  "fs/canonicalize": fsApi.canonicalize,
  "fs/walk": fsApi.walk,
};
