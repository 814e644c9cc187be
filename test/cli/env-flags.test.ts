import { describe, expect, test } from "bun:test";
import { HELP, parseArgs } from "../../src/cli/args.ts";
import { CLIENT_HELP } from "../../src/cli/client-args.ts";
import { flagForVariable, flagKind, withEnvFlags } from "../../src/cli/env-flags.ts";
import { MissingValueError, UnknownArgumentError } from "../../src/cli/listen.ts";

const env = (argv: string[], vars: Record<string, string | undefined>) => withEnvFlags(argv, vars, parseArgs);

describe("EXECBOX_<FLAG> variables", () => {
  test("each becomes its flag before parsing; variables that name no flag are left alone", () => {
    const vars = {
      EXECBOX_LISTEN: "stdio",
      EXECBOX_MAX_SESSIONS: "3",
      EXECBOX_WS_AUTH: "capability-token",
      EXECBOX_WS_TOKEN_FILE: "/etc/execbox/token",
      EXECBOX_ALLOW_UNAUTHENTICATED: "true",
      EXECBOX_BIN: "/not/a/flag",
      PATH: "/usr/bin",
    };
    expect(env([], vars)).toEqual([
      "--allow-unauthenticated",
      "--listen", "stdio",
      "--max-sessions", "3",
      "--ws-auth", "capability-token",
      "--ws-token-file", "/etc/execbox/token",
    ]);
    expect(parseArgs(env([], vars))).toMatchObject({
      listen: { kind: "stdio" },
      maxSessions: 3,
      auth: { wsAuth: "capability-token", tokenFile: "/etc/execbox/token" },
      allowUnauthenticated: true,
    });
  });

  test("a flag on the command line wins, in either spelling; the exec-server alias stays first", () => {
    const vars = { EXECBOX_LISTEN: "stdio", EXECBOX_MAX_SESSIONS: "3", EXECBOX_MAX_PROCESSES: "7" };
    expect(env(["exec-server", "--listen", "ws://127.0.0.1:9", "--max-sessions=2"], vars)).toEqual([
      "exec-server", "--max-processes", "7", "--listen", "ws://127.0.0.1:9", "--max-sessions=2",
    ]);
  });

  test("switches: true/1 on, false/0 off, anything else refused (exit 2); empty means unset", () => {
    expect(env([], { EXECBOX_ALLOW_UNAUTHENTICATED: "1" })).toEqual(["--allow-unauthenticated"]);
    expect(env([], { EXECBOX_ALLOW_UNAUTHENTICATED: "false", EXECBOX_STRICT_CONFIG: "0" })).toEqual([]);
    expect(env([], { EXECBOX_LISTEN: "", EXECBOX_ALLOW_UNAUTHENTICATED: "" })).toEqual([]);
    expect(() => env([], { EXECBOX_ALLOW_UNAUTHENTICATED: "yes" })).toThrow(
      expect.objectContaining({
        exitCode: 2,
        message: "invalid value 'yes' for 'EXECBOX_ALLOW_UNAUTHENTICATED' (the switch --allow-unauthenticated): expected true, false, 1 or 0",
      }),
    );
  });

  test("a value is still checked by the flag's own parser", () => {
    expect(() => parseArgs(env([], { EXECBOX_MAX_SESSIONS: "0" }))).toThrow(
      "invalid value '0' for '--max-sessions <COUNT>': number would be zero for non-zero type",
    );
  });

  test("remote-mode flags have variables too (switches refused alone by clap's rules still count as switches)", () => {
    const vars = { EXECBOX_REMOTE: "https://registry.example", EXECBOX_ENVIRONMENT_ID: "env-1", EXECBOX_REGISTRATION_BEARER_STDIN: "true" };
    expect(env([], vars)).toEqual(["--environment-id", "env-1", "--registration-bearer-stdin", "--remote", "https://registry.example"]);
    expect(parseArgs(env([], vars))).toMatchObject({ remote: { baseUrl: "https://registry.example", environmentId: "env-1", registrationBearerStdin: true } });
  });

  test("not for the client subcommands, and never --help or --version", () => {
    const vars = { EXECBOX_LISTEN: "stdio", EXECBOX_VERSION: "1", EXECBOX_HELP: "true" };
    expect(env(["exec", "--url", "ws://127.0.0.1:1", "--", "true"], vars)).toEqual(["exec", "--url", "ws://127.0.0.1:1", "--", "true"]);
    expect(env(["doctor"], vars)).toEqual(["doctor"]);
    expect(env([], vars)).toEqual(["--listen", "stdio"]);
  });

  // No table: a flag the parser gains (say --log-level, --tls-cert) has its variable at once.
  test("which flags exist and which take values is asked of the parser", () => {
    const parse = (argv: string[]) => {
      if (argv[0] === "--log-level") throw new MissingValueError("--log-level");
      if (argv[0] !== "--tls-required") throw new UnknownArgumentError(argv[0]!);
    };
    expect(env([], { EXECBOX_MADE_UP_FLAG: "debug", EXECBOX_TLS_REQUIRED: "true", EXECBOX_LISTEN: "stdio" })).toEqual(["--listen", "stdio"]);
    expect(withEnvFlags([], { EXECBOX_LOG_LEVEL: "debug", EXECBOX_TLS_REQUIRED: "true", EXECBOX_LISTEN: "stdio" }, parse)).toEqual([
      "--log-level", "debug", "--tls-required",
    ]);
  });

  test("every executor flag in --help has a variable", () => {
    const serverHelp = HELP.slice(HELP.indexOf("Options:"), HELP.indexOf(CLIENT_HELP));
    const flags = [...new Set(serverHelp.match(/--[a-z0-9-]+/g))].filter((f) => f !== "--help" && f !== "--version");
    expect(flags.length).toBeGreaterThan(30);
    expect(flags.filter((f) => flagKind(f, parseArgs) === "none")).toEqual([]);
    expect(flagForVariable("EXECBOX_WS_MAX_CLOCK_SKEW_SECONDS")).toBe("--ws-max-clock-skew-seconds");
  });
});
