/**
 * execbox's own directory under the temp dir for sandbox files (the
 * unreadable placeholder, compiled seccomp filters). Made 0700; refused —
 * failing closed — if it exists but is not a directory of ours that only we
 * can use, since a file planted there would be bound into sandboxes.
 */
import { lstatSync, mkdirSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";

export function privateDir(): string {
  const uid = userInfo().uid;
  const dir = join(tmpdir(), `execbox-sandbox-${uid}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  if (!st.isDirectory() || st.uid !== uid || (st.mode & 0o077) !== 0) {
    throw new Error(`${dir} is not a private directory of uid ${uid}; refusing to use it for sandbox files`);
  }
  return dir;
}
