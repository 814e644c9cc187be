/**
 * stdio channel: spawns an executor with `--listen stdio` through
 * node:child_process (Bun implements it too) and speaks newline-delimited
 * JSON on its stdin/stdout. The executor's only session ends with its input,
 * so this channel cannot be resumed.
 */
import { spawn } from "node:child_process";
import type { Channel, Connector } from "./transport.ts";

export type StdioOptions = {
  /** Where the executor's logs go. */
  stderr?: "inherit" | "ignore";
  cwd?: string;
  env?: Record<string, string | undefined>;
};

/** After closing its stdin, the executor gets this long to exit before SIGKILL. */
export const STDIO_EXIT_GRACE_MS = 5_000;

export function stdioConnector(command: string[], options: StdioOptions = {}): Connector {
  if (command.length === 0) throw new Error("connectStdio needs a command, e.g. [\"execbox\"]");
  const argv = [...command.slice(1), "--listen", "stdio"];
  return {
    target: command.join(" "),
    resumable: false,
    open: (events) =>
      new Promise<Channel>((resolve, reject) => {
        const child = spawn(command[0]!, argv, {
          stdio: ["pipe", "pipe", options.stderr ?? "inherit"],
          cwd: options.cwd,
          env: options.env ?? process.env,
        });
        let exited = false;
        const exitedPromise = new Promise<void>((r) => child.once("exit", () => ((exited = true), r())));
        const channel = {
          closed: false,
          send(text: string) {
            if (channel.closed) throw new Error("connection is closed");
            child.stdin!.write(`${text}\n`);
          },
          async close() {
            finish("closed by the client");
            // EOF on stdin is the executor's signal to kill its processes and exit.
            child.stdin!.end();
            let timer: ReturnType<typeof setTimeout> | undefined;
            await Promise.race([exitedPromise, new Promise((r) => (timer = setTimeout(r, STDIO_EXIT_GRACE_MS)))]);
            clearTimeout(timer);
            if (!exited) {
              child.kill("SIGKILL");
              await exitedPromise;
            }
          },
        };
        const finish = (reason: string) => {
          if (channel.closed) return;
          channel.closed = true;
          events.closed(reason);
        };
        child.once("error", (e) => {
          reject(new Error(`cannot start ${command[0]}: ${e.message}`));
          finish(e.message);
        });
        child.once("spawn", () => resolve(channel));
        // A closed pipe surfaces as an error event on the stream; the exit reports it.
        child.stdin!.on("error", () => {});
        // "close" (not "exit") comes after stdout is drained, so no answer is cut off.
        child.once("close", (code, signal) => finish(`executor exited (${signal ?? `code ${code}`})`));
        // Parts of the line being received, joined once its newline arrives, so a
        // large line read in many small chunks is not rescanned for every chunk.
        let parts: string[] = [];
        child.stdout!.setEncoding("utf8");
        child.stdout!.on("data", (text: string) => {
          let start = 0;
          let nl: number;
          while ((nl = text.indexOf("\n", start)) !== -1) {
            parts.push(text.slice(start, nl));
            const line = parts.join("");
            parts = [];
            start = nl + 1;
            if (line.trim() !== "" && !channel.closed) events.message(line);
          }
          if (start < text.length) parts.push(text.slice(start));
        });
        child.stdout!.on("end", () => finish("executor closed its output"));
      }),
  };
}
