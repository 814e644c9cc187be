/**
 * execbox's additions to the reference's API, advertised in one place: the
 * `extensions` object of `environment/info` (and so of `initialize`'s
 * `environmentInfo`). Each key is a feature, its value the version of that
 * feature's wire; a key is present only once the feature is implemented.
 * A client checks a key before sending the feature's fields or methods, and
 * against an executor without it (the reference) degrades instead of sending
 * them. Clients that know nothing of extensions (the Codex CLI) ignore the key.
 */
import { z } from "zod";

/** Every extension name execbox knows; the wire schema accepts these and no others. */
export const EXTENSION_NAMES = ["closeStdin", "ptySize", "signals", "processList", "timeouts", "outputWatch", "tunnel"] as const;
export type ExtensionName = (typeof EXTENSION_NAMES)[number];

/** What this build implements: name → wire version. */
export const EXTENSIONS: Partial<Record<ExtensionName, number>> = {
  /** `process/write` `closeStdin` (src/process/stdin-writes.ts). */
  closeStdin: 1,
  /** `size` on `process/start`, `process/resizePty` (src/process/pty-size.ts). */
  ptySize: 1,
  /** Every POSIX signal name on `process/signal` (src/protocol/signals.ts). */
  signals: 1,
  /** `process/list` (src/process/process-extras.ts). */
  processList: 1,
  /** `timeoutMs` and `idleTimeoutMs` on `process/start` (src/process/run-timeouts.ts). */
  timeouts: 1,
  /** `process/watch` and `process/unwatch` (src/process/output-watch.ts). */
  outputWatch: 1,
  /** `tunnel/*`: port forwarding over the connection (src/tunnel/); 2: `binary` on `tunnel/open` (src/protocol/tunnel-frame.ts). */
  tunnel: 2,
};

export const Extensions = z.object(Object.fromEntries(EXTENSION_NAMES.map((name) => [name, z.number().int().positive().optional()])) as Record<ExtensionName, z.ZodOptional<z.ZodNumber>>);
export type Extensions = z.infer<typeof Extensions>;

/** Whether an executor's `environmentInfo` advertises `name` at `version` or newer. */
export function supportsExtension(info: { extensions?: Extensions } | undefined, name: ExtensionName, version = 1): boolean {
  return (info?.extensions?.[name] ?? 0) >= version;
}
