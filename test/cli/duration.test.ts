/** `--timeout DURATION` and `execbox ps` arguments. */
import { expect, test } from "bun:test";
import { parseDuration } from "../../src/cli/duration.ts";
import { parseClientArgs } from "../../src/cli/client-args.ts";

test("durations: units, a bare number is seconds, fractions round to whole ms", () => {
  const cases: [string, number][] = [["1500ms", 1500], ["30s", 30_000], ["5m", 300_000], ["2h", 7_200_000], ["1.5", 1500], ["0.0005s", 1], ["168h", 604_800_000]];
  for (const [text, ms] of cases) expect(parseDuration(text, "--timeout <DURATION>")).toBe(ms);
  for (const bad of ["", "s", "1x", "1 s", "0ms", "0.0004s", "168.1h", "1e3"]) {
    expect(() => parseDuration(bad, "--timeout <DURATION>")).toThrow(`invalid value '${bad}' for '--timeout <DURATION>'`);
  }
});

test("exec --timeout and ps parse; ps needs --session and takes no command", () => {
  expect(parseClientArgs("exec", ["--url", "ws://h:1", "--timeout=2s", "--", "true"])).toMatchObject({ command: "exec", timeoutMs: 2000, argv: ["true"] });
  expect(parseClientArgs("ps", ["--url", "ws://h:1", "--session", "s", "--json"])).toEqual({ command: "ps", url: "ws://h:1", session: "s", json: true });
  expect(() => parseClientArgs("ps", ["--url", "ws://h:1"])).toThrow("the following required arguments were not provided: --session <SESSION_ID>");
  expect(() => parseClientArgs("ps", ["--url", "ws://h:1", "--session", "s", "ls"])).toThrow("unexpected argument 'ls' found");
  expect(() => parseClientArgs("ps", ["--url", "ws://h:1", "--session", "s", "--timeout", "1s"])).toThrow("unexpected argument '--timeout' found");
});
