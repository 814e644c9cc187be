/**
 * The executor holds secrets (auth tokens, its own environment) that a
 * command it runs under the same uid could otherwise read through
 * /proc/<executor>/environ, mem or fd. Non-dumpable, those files belong to
 * root and need CAP_SYS_PTRACE, which no sandboxed command keeps. Linux
 * only; children are dumpable again after their execve.
 */
import { openLibc } from "../platform/libc.ts";

const PR_SET_DUMPABLE = 4;

/** Makes this process non-dumpable; throws if the kernel refuses (the executor then does not start). */
export function makeExecutorUndumpable(platform = process.platform): void {
  if (platform !== "linux") return;
  const libc = openLibc();
  if (libc.prctl(PR_SET_DUMPABLE, 0) !== 0) throw new Error(`prctl(PR_SET_DUMPABLE, 0) failed: errno ${libc.errno()}`);
}
