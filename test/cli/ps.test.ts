/** `execbox ps`'s table: aligned columns, and nothing a terminal would act on. */
import { expect, test } from "bun:test";
import { formatTable, quoteWord } from "../../src/cli/ps.ts";
import type { ProcessListEntry } from "../../src/protocol/messages/process-list.ts";

const entry = (processId: string, argv: string[]): ProcessListEntry => ({
  processId,
  argv,
  pid: 4242,
  tty: false,
  state: "running",
  exitCode: null,
  startedAtMs: Date.UTC(2026, 11, 6, 12, 0, 0),
  exitedAtMs: null,
  bytesOut: 7,
});

test("control characters in a process id or an argument are shown escaped, never written raw", () => {
  const table = formatTable([entry("p\x1b[2J", ["printf", "\x1b]0;pwned\x07", "it's", "plain"]), entry("ok", ["sh", "-c", "a b"])]);
  expect(table).toBe(
    [
      "PROCESS   PID   STATE    EXIT  STARTED                   OUT  COMMAND",
      "p\\x1b[2J  4242  running  -     2026-12-06T12:00:00.000Z  7    printf $'\\x1b]0;pwned\\x07' 'it'\\''s' plain",
      "ok        4242  running  -     2026-12-06T12:00:00.000Z  7    sh -c 'a b'",
      "",
    ].join("\n"),
  );
  expect(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/.test(table)).toBe(false);
});

test("a quoted word reads back as the same bytes in sh (bash)", () => {
  for (const word of ["\x1b]0;pwned\x07", "it's", "back\\slash 'and' \x9b quote", "\ttab\nnewline", "plain"]) {
    const out = Bun.spawnSync(["bash", "-c", `printf %s ${quoteWord(word)}`]);
    expect(out.stdout.toString()).toBe(word);
  }
});
