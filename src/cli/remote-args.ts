/**
 * Remote-mode flags (`--remote URL --environment-id ID …`), with the
 * reference's clap rules and texts: which flag requires which (and the order
 * clap lists what is missing), which exclude each other, exit 2 for those and
 * exit 1 for the reference's own checks. Flags execbox cannot honour are
 * refused after clap's checks, never ignored.
 *
 * One deliberate difference: `--remote` may be combined with `--listen`
 * (the reference refuses), so one executor serves both.
 */
import { UsageError } from "./listen.ts";

export const REMOTE_TRANSPORTS = ["noise", "direct"] as const;
export type RemoteTransport = (typeof REMOTE_TRANSPORTS)[number];

export type RemoteOptions = {
  baseUrl: string;
  environmentId: string;
  name?: string;
  transport: RemoteTransport;
  /** `--registration-bearer-stdin`: one bearer line on stdin (else CODEX_API_KEY). */
  registrationBearerStdin: boolean;
  /** `--aws-sigv4` and its companions (direct transport only). */
  aws?: { profile?: string; region?: string; service?: string };
};

/** How each flag is shown in clap's messages. */
const DISPLAY: Record<string, string> = {
  "--remote": "--remote <URL>",
  "--environment-id": "--environment-id <ID>",
  "--name": "--name <NAME>",
  "--remote-transport": "--remote-transport <REMOTE_TRANSPORT>",
  "--chatgpt-account-id": "--chatgpt-account-id <ID>",
  "--aws-profile": "--aws-profile <PROFILE>",
  "--aws-region": "--aws-region <REGION>",
  "--aws-service": "--aws-service <SERVICE>",
};
const VALUE_FLAGS = new Set(Object.keys(DISPLAY));
const SWITCHES = new Set([
  "--registration-bearer-stdin",
  "--aws-sigv4",
  "--exit-on-stdin-close",
  "--chatgpt-token-stdin",
  "--use-agent-identity-auth",
  "--executor-credential-stdin",
]);
/** What each flag requires when present (clap `requires`), in the reference's order. */
const REQUIRES: Record<string, string[]> = {
  "--remote": ["--environment-id"],
  "--remote-transport": ["--remote"],
  "--registration-bearer-stdin": ["--remote"],
  "--executor-credential-stdin": ["--remote"],
  "--chatgpt-token-stdin": ["--remote"],
  "--use-agent-identity-auth": ["--remote"],
  "--aws-sigv4": ["--remote"],
  "--exit-on-stdin-close": ["--remote"],
  "--chatgpt-account-id": ["--chatgpt-token-stdin"],
  "--aws-profile": ["--aws-sigv4"],
  "--aws-region": ["--aws-sigv4"],
  "--aws-service": ["--aws-sigv4"],
};
/** Registration credential sources: any two of them conflict. */
const CREDENTIAL_SOURCES = ["--registration-bearer-stdin", "--executor-credential-stdin", "--chatgpt-token-stdin", "--use-agent-identity-auth", "--aws-sigv4"];
/** The reference's flags execbox cannot honour, and why. */
const REFUSED: Record<string, string> = {
  "--chatgpt-token-stdin": "execbox has no ChatGPT account login",
  "--chatgpt-account-id": "execbox has no ChatGPT account login",
  "--use-agent-identity-auth": "execbox does not implement Agent Identity assertions",
  "--executor-credential-stdin": "the reference's executor credential frames are undocumented",
};
const ALTERNATIVES = "use --registration-bearer-stdin, CODEX_API_KEY or --aws-sigv4";

/** Collects remote-mode flags in command-line order while args.ts walks argv. */
export class RemoteArgs {
  private readonly values = new Map<string, string | true>();

  /** Takes `flag` if it is a remote-mode flag; `value` reads its argument. */
  take(flag: string, inline: string | undefined, value: () => string): boolean {
    const isSwitch = SWITCHES.has(flag);
    if (!isSwitch && !VALUE_FLAGS.has(flag)) return false;
    if (this.values.has(flag)) throw new UsageError(`the argument '${DISPLAY[flag] ?? flag}' cannot be used multiple times`, 2);
    if (isSwitch && inline !== undefined) throw new UsageError(`unexpected value '${inline}' for '${flag}' found; no more were expected`, 2);
    const v = isSwitch ? true : value();
    if (flag === "--remote-transport" && !(REMOTE_TRANSPORTS as readonly string[]).includes(v as string)) {
      throw new UsageError(`invalid value '${v}' for '--remote-transport <REMOTE_TRANSPORT>'\n  [possible values: ${REMOTE_TRANSPORTS.join(", ")}]`, 2);
    }
    this.values.set(flag, v);
    return true;
  }

  /** `CODEX_EXEC_SERVER_EXIT_ON_STDIN_CLOSE`, read as clap reads the flag's env: `true` sets it, `false` or empty not. */
  takeEnv(env: Record<string, string | undefined>): void {
    const v = env.CODEX_EXEC_SERVER_EXIT_ON_STDIN_CLOSE;
    if (v === undefined || v === "" || v === "false" || this.values.has("--exit-on-stdin-close")) return;
    if (v !== "true") throw new UsageError(`invalid value '${v}' for '--exit-on-stdin-close'\n  [possible values: true, false]`, 2);
    this.values.set("--exit-on-stdin-close", true);
  }

  /** Validates as the reference and returns the remote options (undefined without `--remote`). */
  finish(): { remote?: RemoteOptions; exitOnStdinClose: boolean } {
    const present = [...this.values.keys()];
    this.checkConflicts(present);
    this.checkRequired(present);
    const flag = (f: string) => this.values.get(f) as string | undefined;
    const transport = (flag("--remote-transport") ?? "noise") as RemoteTransport;
    const aws = this.values.has("--aws-sigv4");
    if (this.values.has("--remote") && aws && transport !== "direct") throw new UsageError("--aws-sigv4 requires --remote-transport direct");
    for (const f of present) if (REFUSED[f]) throw new UsageError(`\`${f}\` is not supported by execbox: ${REFUSED[f]}; ${ALTERNATIVES}`);
    const exitOnStdinClose = this.values.has("--exit-on-stdin-close");
    const baseUrl = flag("--remote");
    if (baseUrl === undefined) return { exitOnStdinClose };
    return {
      exitOnStdinClose,
      remote: {
        baseUrl,
        environmentId: flag("--environment-id")!,
        name: flag("--name"),
        transport,
        registrationBearerStdin: this.values.has("--registration-bearer-stdin"),
        aws: aws ? { profile: flag("--aws-profile"), region: flag("--aws-region"), service: flag("--aws-service") } : undefined,
      },
    };
  }

  /** clap reports the first present flag (command-line order) that conflicts with a later-checked one. */
  private checkConflicts(present: string[]): void {
    for (const a of present) {
      if (!CREDENTIAL_SOURCES.includes(a)) continue;
      const b = present.find((other) => other !== a && CREDENTIAL_SOURCES.includes(other));
      if (b) throw new UsageError(`the argument '${DISPLAY[a] ?? a}' cannot be used with '${DISPLAY[b] ?? b}'`, 2);
    }
  }

  /** clap's missing-arguments list: each required flag preceded by what it requires in turn, present ones left out. */
  private checkRequired(present: string[]): void {
    const required: string[] = [];
    for (const f of present) {
      const reqs = [...(REQUIRES[f] ?? [])];
      if (f === "--remote-transport" && this.values.get(f) === "direct") reqs.push("--aws-sigv4");
      for (const r of reqs) if (!required.includes(r)) required.push(r);
    }
    const missing: string[] = [];
    for (const r of required) {
      for (const m of [...unrollRequires(r), r]) if (!present.includes(m) && !missing.includes(m)) missing.push(m);
    }
    if (missing.length > 0) {
      throw new UsageError(`the following required arguments were not provided:\n${missing.map((m) => `  ${DISPLAY[m] ?? m}`).join("\n")}`, 2);
    }
  }
}

/** What `flag` requires, transitively, breadth first (clap's order). */
function unrollRequires(flag: string): string[] {
  const out: string[] = [];
  const queue = [...(REQUIRES[flag] ?? [])];
  while (queue.length > 0) {
    const next = queue.shift()!;
    if (out.includes(next)) continue;
    out.push(next);
    queue.push(...(REQUIRES[next] ?? []));
  }
  return out;
}
