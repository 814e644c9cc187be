/**
 * `execbox exec`'s exit codes and messages against the compiled binary
 * (EXECBOX_BIN): the remote code; 127 / 126 for a program that is missing /
 * not executable (pipe and PTY); 125 and a message naming the directory for a
 * bad --cwd; 255 with one line naming the flag when the executor wants a token.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCli } from "../helpers/cli.ts";
import { closedPortUrl } from "../helpers/closed-port.ts";
import { type RunningServer, startServer, tempDir } from "../helpers/server.ts";

// Integration tests start real servers and processes; each wait inside has its own deadline.
setDefaultTimeout(30_000);

const dir = tempDir();
const TOKEN = "tok-abcdef0123456789";
let server: RunningServer;
let auth: RunningServer;
beforeAll(async () => {
  writeFileSync(join(dir.path, "token"), `${TOKEN}\n`, { mode: 0o600 });
  writeFileSync(join(dir.path, "wrong"), "tok-wrong-wrong-wrong\n", { mode: 0o600 });
  writeFileSync(join(dir.path, "noexec"), "#!/bin/sh\n", { mode: 0o644 });
  mkdirSync(join(dir.path, "bin"));
  [server, auth] = await Promise.all([
    startServer([], { cwd: dir.path }),
    startServer(["--ws-auth", "capability-token", "--ws-token-file", join(dir.path, "token")]),
  ]);
});
afterAll(async () => {
  await Promise.all([server?.stop("SIGTERM"), auth?.stop("SIGTERM")]);
  dir[Symbol.dispose]();
});

const exec = (...args: string[]) => runCli(["exec", "--url", server.url, ...args]);
const failed = (code: number, message: string) => ({ stdout: "", stderr: `execbox: ${message}\n`, code });

describe("execbox exec exit codes", () => {
  test("the remote command's own code: 0 and 3", async () => {
    expect(await exec("--", "true")).toEqual({ stdout: "", stderr: "", code: 0 });
    expect(await exec("--", "sh", "-c", "exit 3")).toEqual({ stdout: "", stderr: "", code: 3 });
  });

  test("127: command not found, naming the program (pipe and -t)", async () => {
    for (const flags of [[], ["-t"]]) {
      expect(await exec(...flags, "--", "no-such-program-xyz")).toEqual(failed(127, "no-such-program-xyz: command not found"));
      expect(await exec(...flags, "--", "./missing")).toEqual(failed(127, "./missing: No such file or directory"));
    }
  });

  test("126: the program exists but is not executable (pipe and -t)", async () => {
    for (const flags of [[], ["-t"]]) {
      expect(await exec(...flags, "--", "./noexec")).toEqual(failed(126, "./noexec: Permission denied"));
      expect(await exec(...flags, "--", "./bin")).toEqual(failed(126, "./bin: Permission denied"));
    }
  });

  test("125: a missing --cwd, or one that is not a directory, is named (not 'command not found')", async () => {
    for (const flags of [[], ["-t"]]) {
      expect(await exec(...flags, "--cwd", "gone", "--", "true")).toEqual(failed(125, `cannot change directory to ${dir.path}/gone: No such file or directory`));
      expect(await exec(...flags, "--cwd", join(dir.path, "noexec"), "--", "true")).toEqual(
        failed(125, `cannot change directory to ${dir.path}/noexec: Not a directory`),
      );
    }
  });

  test("255: nothing listening", async () => {
    const url = closedPortUrl();
    const down = await runCli(["exec", "--url", url, "--", "true"]);
    expect([down.code, down.stdout]).toEqual([255, ""]);
    expect(down.stderr).toStartWith(`execbox: cannot connect to ${url}`);
  });

  test("255: a 401 says the executor wants a token and which flag passes it", async () => {
    expect(await runCli(["exec", "--url", auth.url, "--", "true"])).toEqual(
      failed(255, `${auth.url} requires a token (401 Unauthorized); pass it with --token-file PATH`),
    );
    const wrong = join(dir.path, "wrong");
    expect(await runCli(["exec", "--url", auth.url, "--token-file", wrong, "--", "true"])).toEqual(
      failed(255, `${auth.url} refused the token in ${wrong} (401 Unauthorized); pass the executor's token with --token-file PATH`),
    );
    expect(await runCli(["exec", "--url", auth.url, "--token-file", join(dir.path, "token"), "--", "sh", "-c", "exit 3"])).toEqual({ stdout: "", stderr: "", code: 3 });
  });
});
