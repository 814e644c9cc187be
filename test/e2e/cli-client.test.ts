/**
 * `execbox exec` and `execbox info` against a real executor, through the
 * compiled binary when EXECBOX_BIN is set, else the source.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { createHash, randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { CLI_DEADLINE_MS as DEADLINE_MS, runCli } from "../helpers/cli.ts";
import { closedPortUrl } from "../helpers/closed-port.ts";
import { type RunningServer, execboxCommand, startServer, tempDir } from "../helpers/server.ts";
import { PROTOCOL_VERSION } from "../../src/version.ts";

// Integration tests start real servers and processes; each wait inside has its own deadline.
setDefaultTimeout(30_000);

const dir = tempDir();
let server: RunningServer;

beforeAll(async () => {
  server = await startServer([], { env: { ...process.env, EXECBOX_TEST_INHERITED: "yes", EXECBOX_TEST_SECRET: "hidden" }, cwd: dir.path });
});
afterAll(async () => {
  // SIGTERM: the executor kills every process it still runs (detached sessions included) before exiting.
  await server?.stop("SIGTERM");
  dir[Symbol.dispose]();
});

const cli = runCli;

describe("execbox exec", () => {
  test("stdout and stderr go to the matching local streams; the exit code is the remote one", async () => {
    const r = await cli(["exec", "--url", server.url, "--", "sh", "-c", "printf out; printf err >&2; exit 7"]);
    expect(r).toEqual({ stdout: "out", stderr: "err", code: 7 });
  });

  test("local stdin is forwarded in order (1 MiB through process/write)", async () => {
    const lines = await cli(["exec", "--url", server.url, "--", "head", "-n", "2"], "hello\nworld\nignored\n");
    expect([lines.stdout, lines.code]).toEqual(["hello\nworld\n", 0]);
    const data = randomBytes(1024 * 1024);
    const r = await cli(["exec", "--url", server.url, "--", "sh", "-c", `head -c ${data.length} | sha256sum`], data);
    expect(r.stdout.split(" ")[0]).toBe(createHash("sha256").update(data).digest("hex"));
    expect(r.code).toBe(0);
  });

  test("the executor's environment (default excludes applied), --env overlays, cwd defaults to the executor's", async () => {
    const script = 'echo "$EXECBOX_TEST_INHERITED|${EXECBOX_TEST_SECRET:-unset}|$A|$(pwd)"';
    const r = await cli(["exec", "--url", server.url, "--env", "A=1=2", "--", "sh", "-c", script]);
    expect(r.stdout).toBe(`yes|unset|1=2|${dir.path}\n`);
    const sub = join(dir.path, "sub");
    await Bun.write(join(sub, "f"), "");
    expect((await cli(["exec", "--url", server.url, "--cwd", "sub", "--no-stdin", "--", "pwd"])).stdout).toBe(`${sub}\n`);
    expect((await cli(["exec", "--url", server.url, "--cwd", sub, "--", "ls"])).stdout).toBe("f\n");
  });

  test("Ctrl-C (SIGINT to the local client) interrupts the remote command: exit 130", async () => {
    const proc = Bun.spawn([...execboxCommand(), "exec", "--url", server.url, "--", "sh", "-c", "echo ready; sleep 30"], {
      stdin: "pipe",
      stdout: "pipe",
      stderr: "pipe",
    });
    const timer = setTimeout(() => proc.kill("SIGKILL"), DEADLINE_MS);
    const reader = proc.stdout.getReader();
    let out = "";
    while (!out.includes("ready\n")) {
      const { done, value } = await reader.read();
      if (done) break;
      out += new TextDecoder().decode(value);
    }
    proc.kill("SIGINT");
    const code = await proc.exited;
    clearTimeout(timer);
    expect([out, code]).toEqual(["ready\n", 130]);
  });

  test("an unreachable executor exits 255; usage mistakes exit 2", async () => {
    const url = closedPortUrl();
    const down = await cli(["exec", "--url", url, "--", "true"]);
    expect(down.code).toBe(255);
    expect(down.stderr).toStartWith(`execbox: cannot connect to ${url}`);
    expect((await cli(["exec", "--", "true"])).code).toBe(2);
    expect((await cli(["exec", "--url", server.url])).code).toBe(2);
    expect((await cli(["exec", "--url", server.url, "--env", "NOVALUE", "--", "true"])).code).toBe(2);
  });
});

describe("execbox info", () => {
  test("prints environment/info as pretty JSON; --token-file for authenticated executors", async () => {
    const r = await cli(["info", "--url", server.url]);
    expect(r.code).toBe(0);
    expect(r.stdout).toStartWith("{\n  ");
    const info = JSON.parse(r.stdout);
    expect(info.executorVersion).toBe(PROTOCOL_VERSION);
    expect(info.cwd).toBe(`file://${dir.path}`);

    writeFileSync(join(dir.path, "token"), "tok-abcdef0123456789\n", { mode: 0o600 });
    writeFileSync(join(dir.path, "wrong"), "nope\n", { mode: 0o600 });
    writeFileSync(join(dir.path, "open"), "tok-abcdef0123456789\n", { mode: 0o644 });
    await using auth = await startServer(["--ws-auth", "capability-token", "--ws-token-file", join(dir.path, "token")]);
    expect((await cli(["info", "--url", auth.url, "--token-file", join(dir.path, "token")])).code).toBe(0);
    const denied = await cli(["info", "--url", auth.url, "--token-file", join(dir.path, "wrong")]);
    expect(denied.code).toBe(255);
    expect(denied.stderr).toContain("401");
    const missing = await cli(["info", "--url", auth.url, "--token-file", join(dir.path, "absent")]);
    expect([missing.code, missing.stderr]).toEqual([1, expect.stringContaining(`failed to read --token-file ${join(dir.path, "absent")}: No such file or directory`)]);
    // The client holds its token file to the executor's rule: one others can read is refused, not sent.
    const open = await cli(["info", "--url", auth.url, "--token-file", join(dir.path, "open")]);
    expect([open.code, open.stderr]).toEqual([1, expect.stringContaining(`--token-file ${join(dir.path, "open")} is accessible by group or others (permissions 0644)`)]);
  });

  test("--help describes the client commands", async () => {
    const r = await cli(["--help"]);
    expect(r.stdout).toContain("execbox exec --url <URL> [OPTIONS] -- <COMMAND> [ARGS]…");
    expect(r.stdout).toContain("execbox info --url <URL>");
  });
});
