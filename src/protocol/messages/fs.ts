import { z } from "zod";
import { SandboxContext } from "./sandbox.ts";
import { bool, lazy, opt, seq, str, struct, u64, usize, variant } from "../serde.ts";
import { Base64Chunk } from "./bytes.ts";

/** Sandbox intent on fs/* calls. */
const sandbox = lazy(() => opt(SandboxContext));

export const FsReadFileParams = lazy(() => struct("WireFsReadFileParams", { path: str(), followSymlinks: opt(bool()), sandbox }));
export const FsReadFileResult = lazy(() => z.object({ dataBase64: z.string() }));

export const FsWriteFileParams = lazy(() =>
  struct("WireFsWriteFileParams", {
    path: str(),
    dataBase64: str(),
    followSymlinks: opt(bool()),
    sandbox,
  }),
);

export const FsCreateDirectoryParams = lazy(() =>
  struct("WireFsCreateDirectoryParams", {
    path: str(),
    recursive: opt(bool()),
    followSymlinks: opt(bool()),
    sandbox,
  }),
);

export const FsGetMetadataParams = lazy(() => struct("WireFsGetMetadataParams", { path: str(), followSymlinks: opt(bool()), sandbox }));
export const FsMetadata = lazy(() =>
  z.object({
    isDirectory: z.boolean(),
    isFile: z.boolean(),
    isSymlink: z.boolean(),
    size: z.number(),
    createdAtMs: z.number(),
    modifiedAtMs: z.number(),
  }),
);

export const FsReadDirectoryParams = lazy(() => struct("WireFsReadDirectoryParams", { path: str(), sandbox }));
export const FsDirectoryEntry = lazy(() => z.object({ fileName: z.string(), isDirectory: z.boolean(), isFile: z.boolean() }));
export const FsReadDirectoryResult = lazy(() => z.object({ entries: z.array(FsDirectoryEntry) }));

export const FsRemoveParams = lazy(() =>
  struct("WireFsRemoveParams", {
    path: str(),
    recursive: opt(bool()),
    force: opt(bool()),
    followSymlinks: opt(bool()),
    sandbox,
  }),
);

export const FsCopyParams = lazy(() =>
  struct("WireFsCopyParams", {
    sourcePath: str(),
    destinationPath: str(),
    recursive: bool(),
    sandbox,
  }),
);

export const FsCanonicalizeParams = lazy(() => struct("WireFsCanonicalizeParams", { path: str(), sandbox }));
export const FsCanonicalizeResult = lazy(() => z.object({ path: z.string() }));

export const FsWalkOptions = lazy(() =>
  struct("WalkOptions", {
    maxDepth: usize(),
    maxDirectories: usize(),
    maxEntries: usize(),
    followDirectorySymlinks: bool(),
    /** Optional in the reference (default false), unlike the other four. */
    pruneHiddenDirectories: bool().optional(),
  }),
);
export type FsWalkOptions = z.infer<typeof FsWalkOptions>;
export const FsWalkParams = lazy(() => struct("WireFsWalkParams", { path: str(), options: FsWalkOptions, sandbox }));
export const FsWalkEntry = lazy(() => z.object({ path: z.string(), kind: z.enum(["file", "directory"]) }));
export const FsWalkResult = lazy(() =>
  z.object({
    entries: z.array(FsWalkEntry),
    errors: z.array(z.object({ path: z.string(), message: z.string() })),
    truncated: z.boolean(),
  }),
);

export const FsOpenParams = lazy(() =>
  struct("WireFsOpenParams", {
    handleId: str(),
    path: str(),
    mode: variant(["read", "replace"]).optional(),
    sandbox,
  }),
);
export const FsOpenResult = lazy(() => z.object({ handleId: z.string() }));
export const FsReadBlockParams = lazy(() => struct("FsReadBlockParams", { handleId: str(), offset: u64(), len: usize() }));
export const FsReadBlockResult = lazy(() => z.object({ chunk: z.string(), eof: z.boolean() }));
export const FsWriteBlockParams = lazy(() => struct("FsWriteBlockParams", { handleId: str(), offset: u64(), chunk: Base64Chunk }));
export const FsCloseParams = lazy(() => struct("FsCloseParams", { handleId: str() }));

/** `present` may be null: the Codex CLI sends it so, and the reference accepts it. */
export const FsWatchMissingParams = lazy(() => struct("FsWatchMissingParams", { watchId: u64(), present: opt(str()), missing: seq(str()) }));
export const FsWatchMissingResult = lazy(() => z.object({ watching: z.boolean() }));
export const FsMissingChangedNotification = lazy(() => z.object({ watchId: z.number() }));

export const Empty = lazy(() => z.object({}));
