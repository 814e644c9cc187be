/**
 * The reference's executor flags that are not about listening or remote
 * mode (0.169.0 and 0.171.0 `codex exec-server --help`): its Codex
 * configuration overrides, the Linux sandbox's PID-namespace mode, and the
 * managed network proxy's routing. Each is parsed as clap does (same value
 * errors, exit 2) and then either honoured, accepted because it changes
 * nothing execbox does, or refused with why (exit 1) — never silently dropped
 * when it asks for something execbox would not do.
 */
import { UsageError } from "./listen.ts";

/** Flags that take a value, with clap's display name for errors. */
const VALUE_FLAGS: Record<string, string> = {
  "-c": "--config <key=value>",
  "--config": "--config <key=value>",
  "--enable": "--enable <FEATURE>",
  "--disable": "--disable <FEATURE>",
  "--linux-sandbox-pid-namespace": "--linux-sandbox-pid-namespace <MODE>",
  "--tcp-upstream-proxy": "--tcp-upstream-proxy <HOST:PORT>",
};
const SWITCHES = new Set(["--strict-config", "--proxy-private-ips-via-upstream", "--linux-sandbox-transparent-tcp"]);

const NO_CONFIG = "execbox reads no Codex config.toml and has no feature switches, so there is nothing to override; drop the flag";
const NO_PROXY = "execbox's managed network proxy routes no raw TCP (networkProxyTransparentTcp is false) and chains to no upstream proxy";

/**
 * Takes `flag` if it is one of these; `value` reads its argument. Throws a
 * UsageError for a bad value (exit 2) or a flag execbox cannot honour (exit 1).
 */
export function takeReferenceFlag(flag: string, inline: string | undefined, value: () => string): boolean {
  if (SWITCHES.has(flag)) {
    if (inline !== undefined) throw new UsageError(`unexpected value '${inline}' for '${flag}' found; no more were expected`, 2);
    // Without config there is nothing to be strict about; without a proxy, no upstream to use.
    if (flag === "--linux-sandbox-transparent-tcp") throw new UsageError(`\`${flag}\` is not supported by execbox: ${NO_PROXY}`);
    return true;
  }
  const display = VALUE_FLAGS[flag];
  if (display === undefined) return false;
  const v = value();
  switch (flag) {
    case "--linux-sandbox-pid-namespace":
      if (v !== "isolate" && v !== "inherit") throw new UsageError(`invalid value '${v}' for '${display}': expected 'isolate' or 'inherit'`, 2);
      // execbox's bubblewrap sandboxes always get their own PID namespace (the peer guard relies on it).
      if (v === "inherit") throw new UsageError("`--linux-sandbox-pid-namespace inherit` is not supported by execbox: its sandboxes always isolate their PID namespace");
      return true;
    case "--tcp-upstream-proxy":
      throw new UsageError(`\`${flag}\` is not supported by execbox: ${NO_PROXY}`);
    default:
      throw new UsageError(`\`${flag === "-c" ? "--config" : flag}\` is not supported by execbox: ${NO_CONFIG}`);
  }
}
