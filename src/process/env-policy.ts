/**
 * Builds a child's environment from the executor's own environment and an
 * `envPolicy`, then overlays `env` (which always wins and is never filtered).
 */
import type { EnvPolicy } from "../protocol/messages/process.ts";

/** The variables `inherit: "core"` keeps, as the reference does. */
export const CORE_VARIABLES = ["HOME", "LOGNAME", "PATH", "SHELL", "USER", "USERNAME", "LANG", "TMPDIR", "TEMP", "TMP"];
/** Name fragments dropped unless `ignoreDefaultExcludes` (case-insensitive). */
const DEFAULT_EXCLUDES = ["*KEY*", "*SECRET*", "*TOKEN*"];

export function resolveChildEnv(
  own: Record<string, string | undefined>,
  policy: EnvPolicy | null | undefined,
  overlay: Record<string, string>,
): Record<string, string> {
  if (!policy) return { ...overlay };
  let vars: [string, string][] = [];
  if (policy.inherit === "all") vars = definedEntries(own);
  else if (policy.inherit === "core") vars = definedEntries(own).filter(([k]) => CORE_VARIABLES.includes(k));
  const { excluded, notIncluded } = policyFilters(policy);
  vars = vars.filter(([k]) => !excluded(k));
  const env = new Map(vars);
  for (const [k, v] of Object.entries(policy.set)) env.set(k, v);
  for (const k of [...env.keys()]) if (notIncluded(k)) env.delete(k);
  for (const [k, v] of Object.entries(overlay)) env.set(k, v);
  return Object.fromEntries(env);
}

/** The policy's two name filters: inherited names it drops (`exclude`, default excludes), and names `includeOnly` leaves out. */
export function policyFilters(policy: EnvPolicy): { excluded(name: string): boolean; notIncluded(name: string): boolean } {
  const excludes = [...(policy.ignoreDefaultExcludes ? [] : DEFAULT_EXCLUDES), ...policy.exclude].map(globMatcher);
  const keep = policy.includeOnly.map(globMatcher);
  return {
    excluded: (name) => excludes.some((m) => m(name)),
    notIncluded: (name) => keep.length > 0 && !keep.some((m) => m(name)),
  };
}

function definedEntries(own: Record<string, string | undefined>): [string, string][] {
  return Object.entries(own).filter((e): e is [string, string] => e[1] !== undefined);
}

/**
 * Case-insensitive glob over a whole name: `*` and `?` only. Brackets are
 * literal, as in the reference (`CONF_[AM]*` matches nothing but itself).
 */
export function globMatcher(glob: string): (name: string) => boolean {
  const re = glob.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  const rx = new RegExp(`^${re}$`, "i");
  return (name) => rx.test(name);
}
