/**
 * argv[1] values that start execbox's internal modes, kept apart so the entry
 * point can dispatch on them without loading anything else.
 */
/** The fs helper (the reference's flag, so the two are interchangeable). */
export const FS_HELPER_FLAG = "--codex-run-as-fs-helper";
/** The inner sandbox stage: no-new-privs, a seccomp filter, then exec of the command. */
export const SECCOMP_STAGE_FLAG = "--apply-seccomp-then-exec";
/** The inside half of the managed network bridge (see managed-network.ts). */
export const NET_BRIDGE_FLAG = "--execbox-net-bridge";
/** A stage option: the one inherited descriptor the command must keep (the shell snapshot's restore script). */
export const KEEP_FD_FLAG = "--keep-fd";
