/**
 * Guard for `fs/remove`: removing the root directory is refused before
 * anything is touched (the reference, asked to, starts deleting the disk).
 * Like GNU rm's --preserve-root it compares device and inode, not paths, so
 * another path to `/` (a bind mount of it, `/proc/self/root/`) is caught; and
 * since a recursive removal descends into whatever is mounted below it, a
 * directory with `/` mounted somewhere inside is refused too.
 */
import { lstat, readFile, realpath, stat } from "node:fs/promises";
import { sep } from "node:path";
import { invalidRequest } from "../protocol/errors.ts";
import { type NativePath, byteText, displayPath, fromByteText } from "../protocol/path-uri.ts";
import { type FileIdentity, identityOf, sameFile } from "./paths.ts";

const ROOT_REFUSAL = "fs/remove refuses to remove the root directory `/`";
/** Where this process's mount table is read (Linux); elsewhere no mount is seen below a path. */
const MOUNTINFO = "/proc/self/mountinfo";

/**
 * Throws unless `path` may be removed. The final component is not followed:
 * a symlink to `/` is removed itself, never its target. `root` is injectable
 * so tests can stand a temp dir in for `/`.
 */
export async function refuseRootRemoval(path: NativePath, root?: FileIdentity): Promise<void> {
  if (path === sep) throw invalidRequest(ROOT_REFUSAL);
  const st = await lstat(path, { bigint: true }).catch(() => undefined);
  if (!st?.isDirectory()) return;
  const protectedId = root ?? (await identityOf(sep));
  if (sameFile(st, protectedId)) throw invalidRequest(ROOT_REFUSAL);
  for (const point of await mountPointsBelow(byteText(await realpath(path, { encoding: "buffer" })))) {
    const mountPoint = fromByteText(point);
    const mounted = await stat(mountPoint, { bigint: true }).catch(() => undefined);
    if (mounted && sameFile(mounted, protectedId)) {
      const [shown, at] = [displayPath(path), displayPath(mountPoint)];
      throw invalidRequest(`fs/remove refuses to remove \`${shown}\`: the root directory \`/\` is mounted inside it at \`${at}\``);
    }
  }
}

/** Mount points strictly below the canonical directory `dir`, from the mount table; both in `byteText` form. */
async function mountPointsBelow(dir: string): Promise<string[]> {
  const table = await readFile(MOUNTINFO, "latin1").catch(() => "");
  const prefix = dir.endsWith(sep) ? dir : dir + sep;
  const points = [];
  for (const line of table.split("\n")) {
    // Fields: id, parent id, major:minor, root within its filesystem, mount point, …
    const field = line.split(" ")[4];
    if (field === undefined) continue;
    const point = field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
    if (point.startsWith(prefix)) points.push(point);
  }
  return points;
}
