/**
 * Environment-variable equivalents of the executor's flags, for systemd units
 * and containers: `EXECBOX_<FLAG>` (the long flag in upper snake case,
 * `--max-sessions` → `EXECBOX_MAX_SESSIONS`) becomes the flag before argv is
 * parsed. A flag given on the command line wins over its variable.
 *
 * Generic by construction: which variables are flags, and which flags take a
 * value, is asked of the parser itself (`parseArgs` on the lone flag), so a
 * flag added to args.ts has its variable without a table to keep in step.
 * Variables that name no flag (EXECBOX_BIN, …) are left alone. Secrets stay
 * files: the variables carry what the flags carry (`EXECBOX_WS_TOKEN_FILE`
 * names the token file).
 */
import { MissingValueError, UnknownArgumentError, UsageError } from "./listen.ts";

export const ENV_PREFIX = "EXECBOX_";
/** Never taken from the environment: they replace the run with a printout. */
const NOT_FROM_ENV = new Set(["--help", "--version"]);
/** The client and diagnostic subcommands: the variables configure the executor only. */
const CLIENT_COMMANDS = new Set(["exec", "info", "doctor"]);

type Parse = (argv: string[], env: Record<string, string | undefined>) => unknown;
export type FlagKind = "switch" | "value" | "none";

/** `EXECBOX_MAX_SESSIONS` → `--max-sessions`. */
export function flagForVariable(name: string): string {
  return `--${name.slice(ENV_PREFIX.length).toLowerCase().replaceAll("_", "-")}`;
}

/** What the parser makes of `flag` alone: unknown, a switch, or a flag that needs a value. */
export function flagKind(flag: string, parse: Parse): FlagKind {
  try {
    parse([flag], {});
    return "switch";
  } catch (e) {
    if (e instanceof MissingValueError) return "value";
    if (e instanceof UnknownArgumentError) return "none";
    // Known but refused alone (a remote flag without --remote, a refused reference flag): a switch.
    return "switch";
  }
}

function given(argv: string[], flag: string): boolean {
  return argv.some((a) => a === flag || a.startsWith(`${flag}=`));
}

/** A switch's variable: true/1 turns it on, false/0 leaves it off; anything else is refused (exit 2). */
function switchOn(name: string, value: string, flag: string): boolean {
  if (value === "true" || value === "1") return true;
  if (value === "false" || value === "0") return false;
  throw new UsageError(`invalid value '${value}' for '${name}' (the switch ${flag}): expected true, false, 1 or 0`, 2);
}

/**
 * argv with the flags the environment sets and argv lacks, placed after the
 * `exec-server` alias if any. Empty variables count as unset.
 */
export function withEnvFlags(argv: string[], env: Record<string, string | undefined>, parse: Parse): string[] {
  if (CLIENT_COMMANDS.has(argv[0] ?? "")) return argv;
  const added: string[] = [];
  for (const name of Object.keys(env).sort()) {
    const value = env[name];
    if (!name.startsWith(ENV_PREFIX) || value === undefined || value === "") continue;
    const flag = flagForVariable(name);
    if (NOT_FROM_ENV.has(flag) || given(argv, flag)) continue;
    const kind = flagKind(flag, parse);
    if (kind === "value") added.push(flag, value);
    else if (kind === "switch" && switchOn(name, value, flag)) added.push(flag);
  }
  const at = argv[0] === "exec-server" ? 1 : 0;
  return [...argv.slice(0, at), ...added, ...argv.slice(at)];
}
