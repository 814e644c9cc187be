import { describe, expect, test } from "bun:test";
import { parseArgs } from "../../src/cli/args.ts";
import { isLoopback, parseListen } from "../../src/cli/listen.ts";

describe("parseArgs", () => {
  test("defaults as the reference", () => {
    expect(parseArgs([])).toMatchObject({ command: "serve", listen: { kind: "ws", host: "127.0.0.1", port: 0 }, concurrentRequests: 1 });
  });
  test("exec-server alias and --flag=value", () => {
    expect(parseArgs(["exec-server", "--listen=stdio", "--concurrent-requests", "4"])).toMatchObject({ listen: { kind: "stdio" }, concurrentRequests: 4 });
  });
  test("--max-processes and --max-sessions: positive counts, defaults 512 and 128", () => {
    expect(parseArgs([])).toMatchObject({ maxProcesses: 512, maxSessions: 128 });
    expect(parseArgs(["--max-processes", "3", "--max-sessions=2"])).toMatchObject({ maxProcesses: 3, maxSessions: 2 });
    expect(() => parseArgs(["--max-sessions", "0"])).toThrow(expect.objectContaining({ exitCode: 2 }));
  });
  test("usage errors carry clap's exit code 2, invalid values 1", () => {
    expect(() => parseArgs(["--nope"])).toThrow(expect.objectContaining({ exitCode: 2 }));
    expect(() => parseArgs(["--concurrent-requests", "0"])).toThrow(expect.objectContaining({ exitCode: 2 }));
    expect(() => parseArgs(["--listen", "tcp://1.2.3.4:5"])).toThrow(expect.objectContaining({ exitCode: 1 }));
  });
  test("auth flags are collected; an unknown mode is a usage error", () => {
    expect(parseArgs(["--ws-auth", "signed-bearer-token", "--ws-issuer", "i", "--ws-max-clock-skew-seconds", "5"])).toMatchObject({
      auth: { wsAuth: "signed-bearer-token", issuer: "i", maxClockSkewSeconds: 5 },
    });
    expect(() => parseArgs(["--ws-auth", "password"])).toThrow(expect.objectContaining({ exitCode: 2 }));
    expect(() => parseArgs(["--chatgpt-token-stdin", "--remote", "http://127.0.0.1:1", "--environment-id", "e"])).toThrow("is not supported by execbox");
  });
});

describe("the reference's other executor flags (0.169.0 and 0.171.0 --help)", () => {
  const refusal = (argv: string[]) => {
    try {
      parseArgs(argv);
    } catch (e) {
      return { message: (e as Error).message, exitCode: (e as { exitCode: number }).exitCode };
    }
    return null;
  };
  test("accepted where they change nothing execbox does", () => {
    expect(parseArgs(["--linux-sandbox-pid-namespace", "isolate", "--strict-config", "--proxy-private-ips-via-upstream"])).toMatchObject({ command: "serve" });
  });
  test("bad values answer clap's text and exit 2, as the reference", () => {
    expect(refusal(["--linux-sandbox-pid-namespace", "bogus"])).toEqual({
      message: "invalid value 'bogus' for '--linux-sandbox-pid-namespace <MODE>': expected 'isolate' or 'inherit'",
      exitCode: 2,
    });
    expect(refusal(["--tcp-upstream-proxy"])).toEqual({ message: "a value is required for '--tcp-upstream-proxy' but none was supplied", exitCode: 2 });
  });
  test("refused with why (exit 1) where execbox cannot do what they ask", () => {
    const NO_PROXY = "execbox's managed network proxy routes no raw TCP (networkProxyTransparentTcp is false) and chains to no upstream proxy";
    expect(refusal(["--linux-sandbox-transparent-tcp"])).toEqual({ message: `\`--linux-sandbox-transparent-tcp\` is not supported by execbox: ${NO_PROXY}`, exitCode: 1 });
    expect(refusal(["--tcp-upstream-proxy", "proxy:3128"])).toEqual({ message: `\`--tcp-upstream-proxy\` is not supported by execbox: ${NO_PROXY}`, exitCode: 1 });
    expect(refusal(["--linux-sandbox-pid-namespace", "inherit"])?.exitCode).toBe(1);
    for (const argv of [["-c", "model=o3"], ["--config=a=b"], ["--enable", "network_proxy"], ["--disable", "x"]]) {
      expect(refusal(argv)?.message).toEndWith("is not supported by execbox: execbox reads no Codex config.toml and has no feature switches, so there is nothing to override; drop the flag");
    }
  });
});

describe("--listen", () => {
  test("accepts stdio, IPv4 and bracketed IPv6", () => {
    expect(parseListen("stdio://")).toEqual({ kind: "stdio" });
    expect(parseListen("ws://0.0.0.0:80")).toEqual({ kind: "ws", host: "0.0.0.0", port: 80 });
    expect(parseListen("ws://[::1]:0")).toEqual({ kind: "ws", host: "::1", port: 0 });
    expect(parseListen("wss://[::1]:443")).toEqual({ kind: "wss", host: "::1", port: 443 });
  });
  test("rejects host names, paths and out-of-range ports", () => {
    for (const url of ["ws://localhost:0", "ws://127.0.0.1:0/", "ws://127.0.0.1:70000", "ws://::1:0"]) {
      expect(() => parseListen(url)).toThrow(`invalid websocket --listen URL \`${url}\``);
    }
  });
  test("loopback detection", () => {
    expect([isLoopback("127.0.0.1"), isLoopback("::1"), isLoopback("0.0.0.0"), isLoopback("10.0.0.1")]).toEqual([true, true, false, false]);
  });
});
