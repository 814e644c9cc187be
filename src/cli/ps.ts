/**
 * `execbox ps --url … --session ID`: resumes a detached session, lists its
 * processes (`process/list`, extension `processList`) and detaches again, so
 * whoever left commands running can see them. Exit 0 listed; 1 the executor
 * has no `process/list` (the reference) or refused the session (unknown,
 * expired, attached elsewhere); 255 it cannot be reached; 2 bad usage.
 */
import { ExecboxRpcError, ExecboxUnsupportedError } from "../client/index.ts";
import type { ProcessListEntry } from "../protocol/messages/process-list.ts";
import type { PsOptions } from "./client-args.ts";
import { CONNECTION_FAILURE_EXIT, connectOrReport, message, say } from "./exec.ts";

/** `execbox ps` could talk to the executor but could not list: no such extension, or no such session. */
export const PS_FAILURE_EXIT = 1;

export async function runPs(options: PsOptions): Promise<number> {
  const connected = await connectOrReport(options, "execbox-ps", { resumeSessionId: options.session, refusedExit: PS_FAILURE_EXIT });
  if (typeof connected === "number") return connected;
  try {
    const processes = await connected.list();
    process.stdout.write(options.json ? `${JSON.stringify(processes, null, 2)}\n` : formatTable(processes));
    return 0;
  } catch (e) {
    say(message(e));
    return e instanceof ExecboxUnsupportedError || e instanceof ExecboxRpcError ? PS_FAILURE_EXIT : CONNECTION_FAILURE_EXIT;
  } finally {
    await connected.close();
  }
}

/**
 * Whitespace-aligned columns, the command last (its words quoted for sh where
 * needed). Control characters never reach the terminal raw: a process id or
 * argument holding an escape sequence (whoever started the process chose
 * them) would otherwise repaint or retitle the reader's terminal.
 */
export function formatTable(processes: ProcessListEntry[]): string {
  const rows = [
    ["PROCESS", "PID", "STATE", "EXIT", "STARTED", "OUT", "COMMAND"],
    ...processes.map((p) => [
      visible(p.processId),
      String(p.pid),
      p.state,
      p.exitCode === null ? "-" : String(p.exitCode),
      new Date(p.startedAtMs).toISOString(),
      String(p.bytesOut),
      p.argv.map(quoteWord).join(" "),
    ]),
  ];
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((r) => r[col]!.length)));
  return rows.map((r) => r.map((cell, col) => (col === r.length - 1 ? cell : cell.padEnd(widths[col]!))).join("  ")).join("\n") + "\n";
}

/** C0 and C1 controls and DEL: what a terminal may act on. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;
const HAS_CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
/** A control character as its UTF-8 bytes, `\xNN` each (what `$'…'` turns back into the same bytes). */
const escaped = (c: string) => [...Buffer.from(c)].map((b) => `\\x${b.toString(16).padStart(2, "0")}`).join("");

/** `text` with each control character shown as `\xNN` escapes of its bytes. */
export const visible = (text: string) => text.replace(CONTROL, escaped);

/** A word as sh reads it back: bare when safe, in single quotes, or ANSI-C `$'…'` when it holds control characters. */
export function quoteWord(word: string): string {
  if (/^[\w@%+=:,./-]+$/.test(word)) return word;
  if (!HAS_CONTROL.test(word)) return `'${word.replaceAll("'", `'\\''`)}'`;
  return `$'${word.replace(/[\\']/g, (c) => `\\${c}`).replace(CONTROL, escaped)}'`;
}
