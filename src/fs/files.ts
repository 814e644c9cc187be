/**
 * The one-shot filesystem methods: read, write, mkdir, metadata, list, remove,
 * copy, canonicalize. Paths arrive already parsed; errors are OS errors mapped
 * by `fromOsError` (not found → -32004) or the reference's validation texts.
 */
import { constants } from "node:fs";
import { copyFile, lstat, mkdir, open, readdir, readlink, realpath, rm, rmdir, stat, symlink, unlink } from "node:fs/promises";
import { sep } from "node:path";
import { Base64Error, decodeBase64 } from "../protocol/base64.ts";
import { fromOsError, invalidRequest, internalError } from "../protocol/errors.ts";
import { type NativePath, displayPath, joinPath, toPathUri } from "../protocol/path-uri.ts";
import { FileDataResult } from "./base64-result.ts";
import { identityOf, isInsideTree, osError, refuseDotName, refuseFinalSymlink, refuseSymlinks } from "./paths.ts";
import { refuseRootRemoval } from "./root-guard.ts";

/** Runs an fs operation, turning thrown OS errors into their JSON-RPC form. */
export async function fsCall<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (e) {
    throw fromOsError(e);
  }
}

export const notAFile = (path: NativePath) => invalidRequest(`path \`${displayPath(path)}\` is not a file`);

export async function readFile(path: NativePath, followSymlinks: boolean): Promise<FileDataResult> {
  return fsCall(async () => {
    if (!followSymlinks) await refuseSymlinks(path);
    const st = await stat(path);
    if (!st.isFile()) throw notAFile(path);
    // A Buffer is a path to Bun.file, as it is to node:fs.
    return new FileDataResult(await Bun.file(path as string).bytes());
  });
}

export async function writeFile(path: NativePath, dataBase64: string, followSymlinks: boolean): Promise<{}> {
  let data: Buffer;
  try {
    data = decodeBase64(dataBase64);
  } catch (e) {
    throw invalidRequest(`fs/writeFile requires valid base64 dataBase64: ${e instanceof Base64Error ? e.message : e}`);
  }
  return fsCall(async () => {
    if (!followSymlinks) await refuseSymlinks(path);
    const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | (followSymlinks ? 0 : constants.O_NOFOLLOW);
    const fh = await open(path, flags, 0o666);
    try {
      await fh.writeFile(data);
    } finally {
      await fh.close();
    }
    return {};
  });
}

export async function createDirectory(path: NativePath, recursive: boolean, followSymlinks: boolean): Promise<{}> {
  return fsCall(async () => {
    if (!followSymlinks) await refuseSymlinks(path);
    if (recursive) {
      const st = await stat(path).catch(() => undefined);
      if (st && !st.isDirectory()) throw osError("EEXIST");
      await mkdir(path, { recursive: true });
    } else {
      await mkdir(path);
    }
    return {};
  });
}

export async function getMetadata(path: NativePath, followSymlinks: boolean) {
  return fsCall(async () => {
    if (!followSymlinks) await refuseFinalSymlink(path);
    const link = await lstat(path);
    const st = link.isSymbolicLink() ? await stat(path) : link;
    return {
      isDirectory: st.isDirectory(),
      isFile: st.isFile(),
      isSymlink: link.isSymbolicLink(),
      size: st.size,
      // The reference reports the birth time only on its no-follow path, 0 otherwise.
      createdAtMs: followSymlinks ? 0 : Math.floor(st.birthtimeMs),
      modifiedAtMs: Math.floor(st.mtimeMs),
    };
  });
}

export async function readDirectory(path: NativePath) {
  return fsCall(async () => {
    const dirents = await readdir(path, { withFileTypes: true });
    const entries = [];
    for (const d of dirents) {
      let isDirectory = d.isDirectory();
      let isFile = d.isFile();
      if (d.isSymbolicLink()) {
        // The name is the lossy (U+FFFD) text the reference lists, and looks up, too.
        const target = await stat(joinPath(path, d.name)).catch(() => undefined);
        if (!target) continue; // dangling links are left out, as the reference does
        isDirectory = target.isDirectory();
        isFile = target.isFile();
      }
      entries.push({ fileName: d.name, isDirectory, isFile });
    }
    return { entries };
  });
}

export async function remove(path: NativePath, recursive: boolean, force: boolean, followSymlinks: boolean): Promise<{}> {
  refuseDotName(path, "fs/remove");
  await refuseRootRemoval(path);
  return fsCall(async () => {
    if (!followSymlinks && recursive) throw internalError("recursive no-follow removal is unsupported");
    if (!followSymlinks) await refuseFinalSymlink(path);
    const st = await lstat(path).catch((e) => {
      if (e.code === "ENOENT" && force) return undefined;
      throw e;
    });
    if (!st) return {};
    if (!st.isDirectory()) await unlink(path);
    else if (recursive) await rm(path, { recursive: true, force: true });
    else await rmdir(path);
    return {};
  });
}

export async function copy(source: NativePath, destination: NativePath, recursive: boolean): Promise<{}> {
  refuseDotName(destination, "fs/copy");
  return fsCall(async () => {
    const st = await lstat(source);
    if (st.isDirectory()) {
      if (!recursive) throw invalidRequest("fs/copy requires recursive: true when sourcePath is a directory");
      // Refuse before writing anything: copying a tree into itself would never end.
      if (await isInsideTree(destination, await identityOf(source))) {
        throw invalidRequest("fs/copy cannot copy a directory to itself or one of its descendants");
      }
      await copyTree(source, destination, true);
    } else if (await sameFile(source, destination)) {
      // The reference truncates a file copied onto itself; execbox leaves it alone,
      // and refuses to turn a link's own target into a link to itself.
      if (st.isSymbolicLink()) throw invalidRequest("fs/copy cannot replace a symlink's target with a link to itself");
    } else {
      await copyEntry(source, destination, st);
    }
    return {};
  });
}

/** True when both paths exist and resolve to the same inode. */
async function sameFile(a: NativePath, b: NativePath): Promise<boolean> {
  const [sa, sb] = await Promise.all([stat(a).catch(() => undefined), stat(b).catch(() => undefined)]);
  return sa !== undefined && sb !== undefined && sa.dev === sb.dev && sa.ino === sb.ino;
}

function kindOf(st: import("node:fs").Stats): string {
  if (st.isFIFO()) return "a FIFO";
  if (st.isSocket()) return "a socket";
  return "a device";
}

const unsupportedCopy = () => invalidRequest("fs/copy only supports regular files, directories, and symlinks");

async function copyEntry(source: NativePath, destination: NativePath, st: Awaited<ReturnType<typeof lstat>>): Promise<void> {
  if (st.isSymbolicLink()) {
    // Never over an existing entry (EEXIST, as the reference): replacing it would lose what was there.
    await symlink(await readlink(source, { encoding: "buffer" }), destination);
  } else if (st.isFile()) {
    const dst = await stat(destination).catch(() => undefined);
    if (dst?.isDirectory()) throw osError("EISDIR");
    // Opening a FIFO (or a device) to write would block this request for good, as it does the reference's.
    if (dst && !dst.isFile()) throw invalidRequest(`fs/copy refuses to write into ${kindOf(dst)}: ${displayPath(destination)}`);
    await copyFile(source, destination);
  } else {
    throw unsupportedCopy();
  }
}

/**
 * Copies a directory tree, merging into an existing destination directory.
 * The top level creates missing parents, as the reference does; entries that
 * are neither files, directories nor links (FIFOs, sockets) are skipped.
 */
async function copyTree(source: NativePath, destination: NativePath, top = false): Promise<void> {
  const existing = await stat(destination).catch(() => undefined);
  if (existing && !existing.isDirectory()) throw osError("EEXIST");
  if (!existing) await mkdir(destination, { recursive: top });
  // Raw names: a name that is not UTF-8 is copied as itself.
  for (const name of await readdir(source, { encoding: "buffer" })) {
    const from = joinPath(source, name);
    const to = joinPath(destination, name);
    const st = await lstat(from);
    if (st.isDirectory()) await copyTree(from, to);
    else if (st.isFile() || st.isSymbolicLink()) await copyEntry(from, to, st);
  }
}

export async function canonicalize(path: NativePath): Promise<{ path: string }> {
  return fsCall(async () => ({ path: toPathUri(await realpath(path, { encoding: "buffer" })) }));
}

export { sep };
