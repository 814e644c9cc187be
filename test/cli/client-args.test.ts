import { describe, expect, test } from "bun:test";
import { parseArgs } from "../../src/cli/args.ts";

describe("exec / info arguments", () => {
  test("exec: flags before `--`, the command after; --env repeats; values may contain '='", () => {
    expect(parseArgs(["exec", "--url", "ws://h:1", "--token-file=t", "--cwd", "/w", "--env", "A=1", "--env", "B=x=y", "--", "ls", "-l"])).toEqual({
      command: "exec",
      url: "ws://h:1",
      tokenFile: "t",
      cwd: "/w",
      env: { A: "1", B: "x=y" },
      noStdin: false,
      argv: ["ls", "-l"],
    });
  });
  test("exec: the first non-flag word starts the command, whose own flags are left alone", () => {
    expect(parseArgs(["exec", "--url", "ws://h:1", "--no-stdin", "grep", "-r", "--", "x"])).toMatchObject({ argv: ["grep", "-r", "--", "x"], noStdin: true });
  });
  test("exec: -t forces a PTY, -T refuses one, the last one wins; absent, the terminal decides", () => {
    const pty = (...flags: string[]) => (parseArgs(["exec", "--url", "ws://h:1", ...flags, "--", "ls"]) as { pty?: boolean }).pty;
    expect([pty(), pty("-t"), pty("-T"), pty("-t", "-T"), pty("-T", "-t")]).toEqual([undefined, true, false, false, true]);
    expect(() => parseArgs(["info", "--url", "ws://h:1", "-t"])).toThrow(expect.objectContaining({ exitCode: 2 }));
  });
  test("info takes --url and --token-file only", () => {
    expect(parseArgs(["info", "--url=wss://h/x"])).toEqual({ command: "info", url: "wss://h/x" });
    expect(() => parseArgs(["info", "--url", "ws://h:1", "--cwd", "/"])).toThrow(expect.objectContaining({ exitCode: 2 }));
    expect(() => parseArgs(["info", "--url", "ws://h:1", "extra"])).toThrow(expect.objectContaining({ exitCode: 2 }));
  });
  test("mistakes: no --url, no command, bad --env are exit 2; a non-ws URL is exit 1; -h is help", () => {
    expect(() => parseArgs(["exec", "--", "true"])).toThrow(expect.objectContaining({ exitCode: 2 }));
    expect(() => parseArgs(["exec", "--url", "ws://h:1"])).toThrow(expect.objectContaining({ exitCode: 2 }));
    expect(() => parseArgs(["exec", "--url", "ws://h:1", "--env", "=v", "--", "true"])).toThrow(expect.objectContaining({ exitCode: 2 }));
    expect(() => parseArgs(["exec", "--url", "http://h:1", "--", "true"])).toThrow(expect.objectContaining({ exitCode: 1 }));
    expect(parseArgs(["exec", "-h"])).toEqual({ command: "help" });
  });
});
