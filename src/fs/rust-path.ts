/**
 * Rust's `Path::join`, which the reference uses to build the paths it reports
 * (walk entries, PTY program candidates): an absolute `rest` replaces `base`;
 * no separator is doubled, and nothing already there is normalized (`a//b`
 * stays as the client wrote it, unlike node:path's `join`).
 */
export function joinPath(base: string, rest: string): string {
  if (rest.startsWith("/")) return rest;
  if (rest === "") return base.endsWith("/") ? base : `${base}/`;
  return base.endsWith("/") ? base + rest : `${base}/${rest}`;
}
