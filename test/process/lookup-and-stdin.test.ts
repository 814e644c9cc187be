/**
 * How a child is started, as the reference starts it (each case probed on
 * 0.169.0 and 0.171.0, see test/conformance/scenarios-process-probe.ts):
 * a bare `argv[0]` is found through the child's own PATH, for pipes and PTYs
 * alike, and `pipeStdin` gives the child a real pipe.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { accountShell } from "../../src/process/account-shell.ts";
import { RawClient } from "../helpers/rpc-client.ts";
import { type RunningServer, startServer, tempDir } from "../helpers/server.ts";
import { waitUntil } from "../helpers/wait.ts";

setDefaultTimeout(30_000);

describe("program lookup and stdin", () => {
  const dir = tempDir();
  const serverBin = join(dir.path, "server-bin");
  let server: RunningServer;
  let c: RawClient;
  let n = 0;

  const run = async (argv: string[], env: Record<string, string>, extra: Record<string, unknown> = {}) => {
    const processId = `p${++n}`;
    const r = await c.call("process/start", { processId, argv, cwd: dir.uri, env, tty: false, ...extra });
    if (r.error) return { error: r.error, out: "" };
    await c.processDone(processId);
    return { error: undefined, out: c.output(processId).toString() };
  };

  beforeAll(async () => {
    mkdirSync(join(dir.path, "bin"));
    writeFileSync(join(dir.path, "bin", "hello-tool"), '#!/bin/sh\necho "hello-tool $0 $*"\n', { mode: 0o755 });
    writeFileSync(join(dir.path, "bin", "noexec-tool"), "#!/bin/sh\necho never\n", { mode: 0o644 });
    mkdirSync(serverBin);
    writeFileSync(join(serverBin, "server-tool"), "#!/bin/sh\necho server-tool\n", { mode: 0o755 });
    chmodSync(join(dir.path, "bin", "hello-tool"), 0o755);
    // The executor's own PATH holds a program no child PATH names; its SHELL is not what a PTY child is told.
    const env = { ...process.env, PATH: `${serverBin}:/usr/bin:/bin`, SHELL: "/no/such/shell" } as Record<string, string>;
    server = await startServer([], { env });
    c = await RawClient.websocket(server.url);
    await c.initialize();
  });
  afterAll(async () => {
    c.close();
    await server.stop("SIGKILL");
    dir[Symbol.dispose]();
  });

  test("a pipe child's bare program is found through the PATH in the request's env", async () => {
    expect(await run(["hello-tool", "a"], { PATH: `${dir.path}/bin:/usr/bin:/bin` })).toEqual({
      error: undefined,
      out: `hello-tool ${dir.path}/bin/hello-tool a\n`,
    });
  });

  test("… and through the PATH envPolicy sets", async () => {
    const envPolicy = { inherit: "none", ignoreDefaultExcludes: false, exclude: [], set: { PATH: `${dir.path}/bin` }, includeOnly: [] };
    expect((await run(["hello-tool"], {}, { envPolicy })).out).toBe(`hello-tool ${dir.path}/bin/hello-tool \n`);
  });

  test("relative PATH entries are relative to the child's cwd, used verbatim as execvp does", async () => {
    expect((await run(["hello-tool"], { PATH: "bin" })).out).toBe("hello-tool bin/hello-tool \n");
    expect((await run(["hello-tool"], { PATH: "./bin/" })).out).toBe("hello-tool ./bin//hello-tool \n");
  });

  test("the executor's own PATH is not searched when the child has a PATH of its own", async () => {
    expect((await run(["server-tool"], { PATH: "/usr/bin:/bin" })).error).toEqual({ code: -32603, message: "No such file or directory (os error 2)", data: { kind: "spawnNotFound" } });
  });

  test("a child without PATH searches musl's default, not the executor's PATH", async () => {
    expect((await run(["server-tool"], {})).error).toEqual({ code: -32603, message: "No such file or directory (os error 2)", data: { kind: "spawnNotFound" } });
    expect((await run(["ls", "-d", "/"], {})).out).toBe("/\n");
  });

  test("a candidate that cannot be executed is skipped, and reported as permission denied if nothing else is found", async () => {
    expect((await run(["noexec-tool"], { PATH: "bin:/usr/bin" })).error).toEqual({ code: -32603, message: "Permission denied (os error 13)", data: { kind: "spawnPermissionDenied" } });
  });

  const pty = async (argv: string[], PATH: string, env: Record<string, string> = {}) => {
    const processId = `t${++n}`;
    const r = await c.call("process/start", { processId, argv, cwd: dir.uri, env: { PATH, ...env }, tty: true });
    if (r.error) return r.error;
    await c.processDone(processId);
    return c.output(processId).toString();
  };

  test("PTY: SHELL is the account's login shell from /etc/passwd, not the executor's $SHELL; the request's own SHELL wins", async () => {
    expect(await pty(["sh", "-c", 'echo "$SHELL"'], "/usr/bin:/bin")).toBe(`${accountShell()}\r\n`);
    expect(await pty(["sh", "-c", 'echo "$SHELL"'], "/usr/bin:/bin", { SHELL: "/bin/mine" })).toBe("/bin/mine\r\n");
    expect((await run(["sh", "-c", 'echo "${SHELL-unset}"'], { PATH: "/usr/bin:/bin" })).out).toBe("unset\n");
  });

  test("PTY: relative entries are joined onto the cwd; misses name the PATH and every non-executable candidate", async () => {
    expect(await pty(["hello-tool"], "bin")).toBe(`hello-tool ${dir.path}/bin/hello-tool \r\n`);
    expect(await pty(["noexec-tool"], "bin:/usr/bin")).toEqual({
      code: -32603,
      message: `Unable to spawn noexec-tool because:\n${dir.path}/bin/noexec-tool exists but is not executable.\nNo viable candidates found in PATH "bin:/usr/bin"`,
      data: { kind: "spawnFailed" },
    });
  });

  test("PTY: ./ and ../ programs are looked up under the cwd alone; other relative names with a slash along PATH (portable-pty)", async () => {
    const failed = (message: string) => ({ code: -32603, message, data: { kind: "spawnFailed" } });
    expect(await pty(["./missing-prog"], "/usr/bin:/bin")).toEqual(failed(`Unable to spawn ${dir.path}/./missing-prog because it does not exist`));
    expect(await pty(["./bin/noexec-tool"], "/usr/bin:/bin")).toEqual(failed(`Unable to spawn ${dir.path}/./bin/noexec-tool because it is not executable`));
    expect(await pty(["./bin"], "/usr/bin:/bin")).toEqual(failed(`Unable to spawn ${dir.path}/./bin because it is a directory`));
    expect(await pty(["./bin/hello-tool"], "/usr/bin:/bin")).toBe(`hello-tool ${dir.path}/./bin/hello-tool \r\n`);
    expect(await pty(["file:///bin/sh", "-c", "echo uri"], "/usr/bin:/bin")).toEqual(
      failed('Unable to spawn file:///bin/sh because:\nNo viable candidates found in PATH "/usr/bin:/bin"'),
    );
    expect(await pty(["bin/hello-tool"], dir.path)).toBe(`hello-tool ${dir.path}/bin/hello-tool \r\n`);
  });

  test("NUL bytes: the reference's texts, arguments before environment; a pipe checks before the lookup, a PTY after", async () => {
    const failed = (message: string) => ({ code: -32603, message, data: { kind: "spawnFailed" } });
    const inArgs = failed("nul byte found in provided data");
    const inEnv = failed("data provided contains a nul byte");
    expect((await run(["/bin/sh", "-c", "echo a\0b"], { X: "a\0b" })).error).toEqual(inArgs);
    expect((await run(["missing\0prog"], { PATH: "/bin" })).error).toEqual(inArgs);
    expect((await run(["/bin/sh", "-c", ":"], { PATH: "/bin" }, { arg0: "a\0b" })).error).toEqual(inArgs);
    expect((await run(["/nonexistent/prog"], { "X\0": "1" })).error).toEqual(inEnv);
    expect((await run(["/bin/sh", "-c", ":"], { PATH: "/bi\0n" })).error).toEqual(inEnv);
    expect(await pty(["/bin/sh", "-c", "echo a\0b"], "/bin", { X: "a\0b" })).toEqual(inArgs);
    expect(await pty(["/bin/sh", "-c", ":"], "/bin", { "X\0Y": "1" })).toEqual(inEnv);
    expect(await pty(["s\0h"], "/bin")).toEqual(failed('Unable to spawn s\0h because:\nNo viable candidates found in PATH "/bin"'));
  });

  test("pipeStdin gives the child a pipe, not a socket, and writes reach it through the pipe", async () => {
    const processId = `s${++n}`;
    const script = "[ -p /dev/stdin ] && echo is-a-pipe; cat; echo eof";
    await c.call("process/start", { processId, argv: ["sh", "-c", script], cwd: dir.uri, env: { PATH: "/usr/bin:/bin" }, tty: false, pipeStdin: true });
    expect((await c.call("process/write", { processId, chunk: Buffer.from("typed\n").toString("base64"), writeId: "w1" })).result).toEqual({ status: "accepted" });
    await waitUntil(() => c.output(processId).toString().includes("typed\n"), 10_000);
    await c.call("process/terminate", { processId });
    await c.processDone(processId);
    expect(c.output(processId).toString()).toBe("is-a-pipe\ntyped\n");
  });
});
