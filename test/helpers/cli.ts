/**
 * Runs the execbox CLI (the compiled binary when EXECBOX_BIN is set) to
 * completion, killed at a deadline: with pipes, or inside a PTY the test
 * opens, for what depends on whether stdin and stdout are terminals.
 */
import { execboxCommand } from "./server.ts";

export const CLI_DEADLINE_MS = 20_000;

/** `execbox ARGS…` with stdin from `stdin` (absent: /dev/null), stdout and stderr captured. */
export async function runCli(args: string[], stdin?: Uint8Array | string): Promise<{ stdout: string; stderr: string; code: number }> {
  const proc = Bun.spawn([...execboxCommand(), ...args], { stdin: stdin === undefined ? "ignore" : "pipe", stdout: "pipe", stderr: "pipe" });
  if (stdin !== undefined) {
    proc.stdin!.write(stdin);
    await proc.stdin!.flush();
  }
  const timer = setTimeout(() => proc.kill("SIGKILL"), CLI_DEADLINE_MS);
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  return { stdout, stderr, code };
}

/** `execbox ARGS…` reading `input` as a pipe that then reaches EOF (as `printf … | execbox …`). */
export async function runCliPiped(args: string[], input: string): Promise<{ stdout: string; stderr: string; code: number }> {
  const proc = Bun.spawn([...execboxCommand(), ...args], { stdin: new TextEncoder().encode(input), stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => proc.kill("SIGKILL"), CLI_DEADLINE_MS);
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  return { stdout, stderr, code };
}

/** Single-quotes a word for sh. */
export const shellQuote = (word: string) => `'${word.replaceAll("'", `'\\''`)}'`;

/** The execbox command as sh words, for runAtTerminal scripts. */
export const execboxShell = () => execboxCommand().map(shellQuote).join(" ");

/**
 * `sh -c SCRIPT` with stdin, stdout and stderr on a fresh PTY; the script
 * redirects what it wants into files. Returns the exit code and what reached
 * the terminal.
 */
export async function runAtTerminal(script: string): Promise<{ code: number; terminal: string }> {
  let terminal = "";
  const decoder = new TextDecoder();
  const proc = Bun.spawn(["sh", "-c", script], {
    terminal: { rows: 24, cols: 80, data: (_t, bytes) => void (terminal += decoder.decode(bytes, { stream: true })) },
  });
  const timer = setTimeout(() => proc.kill("SIGKILL"), CLI_DEADLINE_MS);
  const code = await proc.exited;
  clearTimeout(timer);
  proc.terminal?.close();
  return { code, terminal };
}
