/**
 * A read-only or denied path reached through a symlink the command may
 * rewrite cannot be enforced: bwrap mounts over wherever the link points at
 * launch, and the command, free to write the link's directory, then replaces
 * the link (`rm ws/.git; mkdir ws/.git`) and the name it was told to leave
 * alone is its own again. With a writable `/` every symlink is such a link.
 * The reference refuses these launches ("cannot enforce sandbox read-only
 * path … because it crosses writable symlink …"); so does execbox, before
 * anything runs. Missing paths are held by stand-ins made without following
 * symlinks (beneath.ts), so only existing ones are looked at here.
 */
import { dirname } from "node:path";
import { invalidParams } from "../protocol/errors.ts";
import { firstSymlink } from "./beneath.ts";
import { CANNOT_ENFORCE } from "./launch.ts";
import type { PathRule } from "./policy.ts";

/** Throws -32602 when a read-only or denied rule crosses a symlink below the writable rule that contains it. */
export function refuseWritableSymlinks(rules: readonly PathRule[]): void {
  const byPath = new Map(rules.map((r) => [r.path, r.access]));
  for (const rule of rules) {
    if (rule.access === "write" || rule.placeholder) continue;
    const holder = nearestRule(byPath, rule.path);
    if (holder === null || byPath.get(holder) !== "write") continue; // inside a read-only tree nothing can be re-pointed
    const link = firstSymlink(holder, rule.path);
    if (link === null) continue;
    const what = rule.access === "deny" ? "deny-read" : "read-only";
    throw invalidParams(`${CANNOT_ENFORCE}: cannot enforce sandbox ${what} path ${rule.path} because it crosses writable symlink ${link}`);
  }
}

/** The closest strict ancestor of `path` that has a rule, or null. */
function nearestRule(byPath: Map<string, unknown>, path: string): string | null {
  for (let p = dirname(path); ; p = dirname(p)) {
    if (byPath.has(p)) return p;
    if (p === "/") return null;
  }
}
