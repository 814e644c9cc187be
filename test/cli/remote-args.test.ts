import { describe, expect, test } from "bun:test";
import { parseArgs } from "../../src/cli/args.ts";
import { execboxCommand } from "../helpers/server.ts";
import { answers, startFakeRegistry } from "../helpers/fake-registry.ts";

const REGISTER_401 = "Error: environment registry authentication error: environment registry authentication failed (401 Unauthorized): bad key";

const URL_ = "http://127.0.0.1:9";
const REMOTE = ["--remote", URL_, "--environment-id", "env-1"];
const missing = (...flags: string[]) => `the following required arguments were not provided:\n${flags.map((f) => `  ${f}`).join("\n")}`;
const REFUSAL_TAIL = "use --registration-bearer-stdin, CODEX_API_KEY or --aws-sigv4";

/** [argv, exit code, message]: each observed on the 0.169.0 reference (`codex exec-server …`), except the refusals of flags execbox cannot honour. */
const CASES: [string[], number, string][] = [
  [["--remote", URL_], 2, missing("--environment-id <ID>")],
  [["--remote-transport", "direct"], 2, missing("--environment-id <ID>", "--remote <URL>", "--aws-sigv4")],
  [["--remote-transport", "noise"], 2, missing("--environment-id <ID>", "--remote <URL>")],
  [[...REMOTE, "--remote-transport", "direct"], 2, missing("--aws-sigv4")],
  [["--aws-sigv4"], 2, missing("--environment-id <ID>", "--remote <URL>")],
  [["--aws-profile", "p"], 2, missing("--remote <URL>", "--environment-id <ID>", "--aws-sigv4")],
  [["--aws-region", "r", "--remote", URL_], 2, missing("--environment-id <ID>", "--aws-sigv4")],
  [["--aws-service", "s", ...REMOTE], 2, missing("--aws-sigv4")],
  [["--name", "n", "--remote", URL_], 2, missing("--environment-id <ID>")],
  [["--registration-bearer-stdin"], 2, missing("--environment-id <ID>", "--remote <URL>")],
  [["--exit-on-stdin-close"], 2, missing("--environment-id <ID>", "--remote <URL>")],
  [["--chatgpt-token-stdin"], 2, missing("--environment-id <ID>", "--remote <URL>")],
  [["--chatgpt-account-id", "a"], 2, missing("--remote <URL>", "--environment-id <ID>", "--chatgpt-token-stdin")],
  [["--use-agent-identity-auth"], 2, missing("--environment-id <ID>", "--remote <URL>")],
  [["--executor-credential-stdin"], 2, missing("--environment-id <ID>", "--remote <URL>")],
  [[...REMOTE, "--remote-transport", "bogus"], 2, "invalid value 'bogus' for '--remote-transport <REMOTE_TRANSPORT>'\n  [possible values: noise, direct]"],
  [[...REMOTE, "--remote", URL_], 2, "the argument '--remote <URL>' cannot be used multiple times"],
  [[...REMOTE, "--aws-sigv4", "--aws-sigv4"], 2, "the argument '--aws-sigv4' cannot be used multiple times"],
  [[...REMOTE, "--exit-on-stdin-close=true"], 2, "unexpected value 'true' for '--exit-on-stdin-close' found; no more were expected"],
  [["--registration-bearer-stdin", "--executor-credential-stdin", ...REMOTE], 2, "the argument '--registration-bearer-stdin' cannot be used with '--executor-credential-stdin'"],
  [["--executor-credential-stdin", "--registration-bearer-stdin", ...REMOTE], 2, "the argument '--executor-credential-stdin' cannot be used with '--registration-bearer-stdin'"],
  [["--chatgpt-token-stdin", "--aws-sigv4", ...REMOTE], 2, "the argument '--chatgpt-token-stdin' cannot be used with '--aws-sigv4'"],
  [["--use-agent-identity-auth", "--registration-bearer-stdin", ...REMOTE], 2, "the argument '--use-agent-identity-auth' cannot be used with '--registration-bearer-stdin'"],
  [["--aws-sigv4", "--registration-bearer-stdin", ...REMOTE, "--remote-transport", "direct"], 2, "the argument '--aws-sigv4' cannot be used with '--registration-bearer-stdin'"],
  [[...REMOTE, "--aws-sigv4"], 1, "--aws-sigv4 requires --remote-transport direct"],
  [[...REMOTE, "--aws-sigv4", "--remote-transport", "noise"], 1, "--aws-sigv4 requires --remote-transport direct"],
  // execbox: refused after the reference's own checks pass.
  [[...REMOTE, "--chatgpt-token-stdin"], 1, `\`--chatgpt-token-stdin\` is not supported by execbox: execbox has no ChatGPT account login; ${REFUSAL_TAIL}`],
  [[...REMOTE, "--chatgpt-token-stdin", "--chatgpt-account-id", "a"], 1, `\`--chatgpt-token-stdin\` is not supported by execbox: execbox has no ChatGPT account login; ${REFUSAL_TAIL}`],
  [[...REMOTE, "--use-agent-identity-auth"], 1, `\`--use-agent-identity-auth\` is not supported by execbox: execbox does not implement Agent Identity assertions; ${REFUSAL_TAIL}`],
  [[...REMOTE, "--executor-credential-stdin"], 1, `\`--executor-credential-stdin\` is not supported by execbox: the reference's executor credential frames are undocumented; ${REFUSAL_TAIL}`],
];

describe("remote flags: parsing", () => {
  test("the reference's texts and exit codes", () => {
    for (const [argv, code, message] of CASES) {
      let thrown: { message: string; exitCode: number } | undefined;
      try {
        parseArgs(argv, {});
      } catch (e) {
        thrown = e as { message: string; exitCode: number };
      }
      expect([argv, thrown?.exitCode, thrown?.message]).toEqual([argv, code, message]);
    }
  });
  test("valid remote options; --environment-id alone is accepted and unused, as on the reference", () => {
    expect(parseArgs([...REMOTE], {})).toMatchObject({
      listen: undefined,
      exitOnStdinClose: false,
      remote: { baseUrl: URL_, environmentId: "env-1", transport: "noise", registrationBearerStdin: false, aws: undefined },
    });
    expect(
      parseArgs([...REMOTE, "--name", "box", "--remote-transport", "direct", "--aws-sigv4", "--aws-profile", "p", "--aws-region", "r", "--aws-service", "s", "--exit-on-stdin-close"], {}),
    ).toMatchObject({ remote: { name: "box", transport: "direct", aws: { profile: "p", region: "r", service: "s" } }, exitOnStdinClose: true });
    expect(parseArgs([...REMOTE, "--registration-bearer-stdin"], {})).toMatchObject({ remote: { registrationBearerStdin: true } });
    expect(parseArgs(["--environment-id", "e", "--name", "n"], {})).toMatchObject({ remote: undefined, listen: { kind: "ws" } });
  });
  test("execbox: --remote and --listen combine (the reference refuses: '--listen <URL>' cannot be used with '--remote <URL>')", () => {
    expect(parseArgs(["--listen", "stdio", ...REMOTE], {})).toMatchObject({ listen: { kind: "stdio" }, remote: { environmentId: "env-1" } });
  });
  test("CODEX_EXEC_SERVER_EXIT_ON_STDIN_CLOSE as the reference reads it", () => {
    const env = (v: string) => ({ CODEX_EXEC_SERVER_EXIT_ON_STDIN_CLOSE: v });
    expect(parseArgs([...REMOTE], env("true"))).toMatchObject({ exitOnStdinClose: true });
    expect(parseArgs([], env("false"))).toMatchObject({ exitOnStdinClose: false });
    expect(() => parseArgs([], env("true"))).toThrow(missing("--environment-id <ID>", "--remote <URL>"));
    expect(() => parseArgs([], env("1"))).toThrow("invalid value '1' for '--exit-on-stdin-close'\n  [possible values: true, false]");
  });
});

describe("remote flags: the executable", () => {
  const run = async (args: string[], env: Record<string, string> = {}) => {
    const proc = Bun.spawn([...execboxCommand(), ...args], {
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env },
      // A server that starts instead of refusing must not outlive the test.
      timeout: 10_000,
      killSignal: "SIGKILL",
    });
    const [code, stdout, stderr] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
    return [code, stdout, stderr.trim()];
  };

  test("usage errors with the reference's texts and exit codes", async () => {
    for (const [argv, code, message] of CASES.filter((_, i) => [0, 1, 5, 15, 19, 24, 26].includes(i))) {
      expect([argv, ...(await run(argv))]).toEqual([argv, code, "", `Error: ${message}`]);
    }
  });

  test("what remote mode cannot start with is refused before registering: exit 1", async () => {
    await using registry = startFakeRegistry();
    const remote = ["--remote", registry.url, "--environment-id", "env-1"];
    expect(await run(remote)).toEqual([
      1,
      "",
      "Error: remote exec-server registration requires ChatGPT authentication or API key authentication; set CODEX_API_KEY or pass --registration-bearer-stdin or --aws-sigv4",
    ]);
    expect(await run([...remote, "--listen", "stdio"], { CODEX_API_KEY: "sk-test" })).toEqual([1, "", "Error: --remote cannot be combined with --listen stdio"]);
    expect(await run(["--remote", "notaurl", "--environment-id", "e"])).toEqual([1, "", "Error: invalid remote exec-server registration URL: relative URL without a base"]);
    expect(await run(["--remote", registry.url, "--environment-id", "  "])).toEqual([
      1,
      "",
      "Error: environment registry configuration error: environment id is required for remote exec-server registration",
    ]);
    expect(registry.requests).toEqual([]);
  });

  test("a registration the registry refuses ends the executor: exit 1 with the registry's error", async () => {
    await using registry = startFakeRegistry();
    registry.script("register", answers.error(401, "unauthorized", "bad key"));
    const [code, stdout, stderr] = await run(["--remote", registry.url, "--environment-id", "env-1"], { CODEX_API_KEY: "sk-test" });
    expect([code, stdout]).toEqual([1, ""]);
    expect(stderr).toBe(REGISTER_401);
    expect(registry.requestsTo("register").length).toBe(1);
  });

  test("--help lists the remote flags", async () => {
    const [code, stdout] = await run(["--help"]);
    expect(code).toBe(0);
    expect(stdout).toContain("Remote mode:");
    for (const flag of ["--remote <URL>", "--environment-id <ID>", "--remote-transport <T>", "--registration-bearer-stdin", "--aws-sigv4", "--aws-service <SERVICE>", "--exit-on-stdin-close"]) {
      expect(stdout).toContain(flag);
    }
  });
});
