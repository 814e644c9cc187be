/** argv[1] that starts the fs helper mode (the reference's flag, so the two are interchangeable). Kept apart so the CLI entry does not load the helper. */
export const FS_HELPER_FLAG = "--codex-run-as-fs-helper";
