import pkg from "../package.json" with { type: "json" };

/** execbox's own release. */
export const VERSION: string = pkg.version;

/**
 * The `codex exec-server` release whose wire protocol execbox speaks. Reported
 * as `environmentInfo.executorVersion`, because clients compare it with their
 * own protocol expectations, not with execbox's release number.
 */
export const PROTOCOL_VERSION = "0.171.0";
