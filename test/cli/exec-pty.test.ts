/**
 * `execbox exec`'s PTY rule, as ssh's: -t forces a PTY, -T refuses one, and
 * by default the command gets one only when stdin AND stdout are terminals.
 * Driven from a real PTY the test opens, against the compiled binary
 * (EXECBOX_BIN); the files the shell redirects into are compared byte for byte.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { execboxShell, runAtTerminal, shellQuote } from "../helpers/cli.ts";
import { type RunningServer, startServer, tempDir } from "../helpers/server.ts";

// Integration tests start real servers and processes; each wait inside has its own deadline.
setDefaultTimeout(30_000);

const dir = tempDir();
let server: RunningServer;
beforeAll(async () => {
  server = await startServer([], { cwd: dir.path });
});
afterAll(async () => {
  await server?.stop("SIGTERM");
  dir[Symbol.dispose]();
});

const file = (name: string) => readFileSync(join(dir.path, name), "latin1");
/** `execbox exec --url … FLAGS -- sh -c SCRIPT` followed by the local shell's REDIRECTS. */
const exec = (flags: string, script: string, redirects: string) =>
  `${execboxShell()} exec --url ${server.url} ${flags} -- sh -c ${shellQuote(script)} ${redirects}`;

describe("execbox exec at a terminal", () => {
  test("`cmd > out 2> err`: no PTY; stdout and stderr land in their files unchanged (no CR, not merged)", async () => {
    const r = await runAtTerminal(exec("", "echo out; echo err >&2; exit 3", `> ${dir.path}/out1 2> ${dir.path}/err1`));
    expect([r.code, file("out1"), file("err1")]).toEqual([3, "out\n", "err\n"]);
  });

  test("-t forces a PTY, even into a file and with stdin not a terminal: CRLF, stderr on the PTY", async () => {
    const r = await runAtTerminal(exec("-t", "echo out; echo err >&2; exit 3", `> ${dir.path}/out2 2> ${dir.path}/err2`));
    expect([r.code, file("out2"), file("err2")]).toEqual([3, "out\r\nerr\r\n", ""]);
    const piped = await runAtTerminal(exec("-t", "echo out; echo err >&2", `< /dev/null > ${dir.path}/out3 2> ${dir.path}/err3`));
    expect([piped.code, file("out3"), file("err3")]).toEqual([0, "out\r\nerr\r\n", ""]);
  });

  const probe = (name: string) => `t=no-pty; [ -t 0 ] && [ -t 1 ] && t=pty; echo $t > ${dir.path}/${name}`;

  test("stdin and stdout both terminals: a PTY by default, none with -T", async () => {
    expect((await runAtTerminal(exec("", probe("p1"), ""))).code).toBe(0);
    expect((await runAtTerminal(exec("-T", probe("p2"), ""))).code).toBe(0);
    expect([file("p1"), file("p2")]).toEqual(["pty\n", "no-pty\n"]);
  });

  test("only one end a terminal: no PTY (stdin from /dev/null; stdout into a file)", async () => {
    expect((await runAtTerminal(exec("", probe("p3"), "< /dev/null"))).code).toBe(0);
    expect((await runAtTerminal(exec("", probe("p4"), `> ${dir.path}/out4`))).code).toBe(0);
    expect([file("p3"), file("p4"), file("out4")]).toEqual(["no-pty\n", "no-pty\n", ""]);
  });
});
