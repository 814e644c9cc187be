/**
 * Every startup failure is one line on stderr, `Error: …`, with the exit code
 * the README lists (src/cli/exit-codes.ts), never a stack or the bundle's
 * source, and nothing on stdout (its first line is the URL).
 */
import { expect, setDefaultTimeout, test } from "bun:test";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ExitCode } from "../../src/cli/exit-codes.ts";
import { CLI, execboxCommand, tempDir } from "../helpers/server.ts";

setDefaultTimeout(30_000);

async function run(command: string[], args: string[]) {
  const proc = Bun.spawn([...command, ...args], { stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stderr, stdout };
}

test("usage, value, bind and credential failures: one line each, the documented code", async () => {
  using dir = tempDir();
  const open = join(dir.path, "open-token");
  writeFileSync(open, "a-capability-token-of-enough-bytes");
  chmodSync(open, 0o644);
  const holder = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  try {
    const cases: [string[], number, string][] = [
      [["--bogus"], ExitCode.usage, "Error: unexpected argument '--bogus' found"],
      [["--log-level", "loud"], ExitCode.usage, "Error: invalid value 'loud' for '--log-level <LEVEL>' [possible values: error, warn, info, debug, trace]"],
      [["--log-format"], ExitCode.usage, "Error: a value is required for '--log-format' but none was supplied"],
      [["--listen", "ws://localhost:0"], ExitCode.failure, "Error: invalid websocket --listen URL `ws://localhost:0`; expected `ws://IP:PORT`"],
      [["--listen", `ws://127.0.0.1:${holder.port}`], ExitCode.failure, `Error: cannot listen on ws://127.0.0.1:${holder.port}: Address in use (os error 98)`],
      [["--ws-auth", "capability-token", "--ws-token-file", join(dir.path, "missing")], ExitCode.failure, `Error: failed to read websocket auth secret ${join(dir.path, "missing")}: No such file or directory (os error 2)`],
      [["--ws-auth", "capability-token", "--ws-token-file", open], ExitCode.failure, `Error: websocket auth secret ${open} is accessible by group or others (permissions 0644); run \`chmod 600 ${open}\``],
    ];
    for (const [args, code, line] of cases) {
      expect([args, await run(execboxCommand(), args)]).toEqual([args, { code, stderr: `${line}\n`, stdout: "" }]);
    }
  } finally {
    holder.stop(true);
  }
});

test("an unexpected error is one 'Error: internal error' line, exit 70; its stack only at debug", async () => {
  using dir = tempDir();
  // Stands in for a bug: the URL line cannot be written.
  const preload = join(dir.path, "break-stdout.ts");
  writeFileSync(preload, 'Bun.write = () => { throw new TypeError("stdout is broken"); };\n');
  const source = [process.execPath, "--preload", preload, CLI];
  expect(await run(source, [])).toEqual({ code: ExitCode.internal, stderr: "Error: internal error: stdout is broken\n", stdout: "" });
  const debug = await run(source, ["--log-level", "debug", "--log-format", "json"]);
  const lines = debug.stderr.trimEnd().split("\n");
  expect(debug.code).toBe(ExitCode.internal);
  expect(lines.at(-1)).toBe("Error: internal error: stdout is broken");
  expect(JSON.parse(lines.at(-2)!)).toMatchObject({ level: "debug", msg: "internal error" });
  expect(JSON.parse(lines.at(-2)!).stack).toContain("TypeError: stdout is broken");
});
