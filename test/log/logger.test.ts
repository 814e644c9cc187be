import { describe, expect, test } from "bun:test";
import { Logger } from "../../src/log/logger.ts";
import { levelFromRustLog } from "../../src/log/rust-log.ts";
import { parseArgs } from "../../src/cli/args.ts";

const AT = new Date("2026-12-06T10:00:00.123Z");
function capture() {
  const lines: string[] = [];
  const logger = new Logger((line) => lines.push(line), () => AT);
  return { logger, lines };
}

describe("Logger", () => {
  test("text: timestamp, padded level, message, key=value fields; undefined fields left out; values quoted when needed", () => {
    const { logger, lines } = capture();
    logger.info("client connected", { peer: "127.0.0.1:5", resumed: false, session: undefined, reason: 'closed by "x" a=b', n: 3, empty: "" });
    logger.warn("two\nlines");
    expect(lines).toEqual([
      '2026-12-06T10:00:00.123Z  INFO execbox: client connected peer=127.0.0.1:5 resumed=false reason="closed by \\"x\\" a=b" n=3 empty=""\n',
      "2026-12-06T10:00:00.123Z  WARN execbox: two\\nlines\n",
    ]);
  });

  test("json: one object per line with ts, level, msg, then the fields (which cannot replace those three)", () => {
    const { logger, lines } = capture();
    logger.configure("info", "json");
    logger.error("bind failed", { url: "ws://x", level: "spoofed", gone: undefined });
    expect(lines).toEqual(['{"ts":"2026-12-06T10:00:00.123Z","level":"error","msg":"bind failed","url":"ws://x"}\n']);
  });

  test("levels: a threshold writes it and everything more severe", () => {
    const { logger, lines } = capture();
    logger.configure("warn", "text");
    expect([logger.on("error"), logger.on("warn"), logger.on("info"), logger.on("debug")]).toEqual([true, true, false, false]);
    logger.info("no");
    logger.debug("no");
    logger.trace("no");
    logger.warn("yes");
    expect(lines.length).toBe(1);
    logger.configure("trace", "text");
    logger.trace("now");
    expect(lines.at(-1)).toBe("2026-12-06T10:00:00.123Z TRACE execbox: now\n");
  });
});

describe("RUST_LOG", () => {
  test("a bare level, our targets (and their prefixes), the most specific wins, others ignored", () => {
    const cases: [string | undefined, string | undefined][] = [
      [undefined, undefined],
      ["", undefined],
      ["debug", "debug"],
      ["DEBUG", "debug"],
      ["codex_exec_server=debug", "debug"],
      ["execbox=trace", "trace"],
      ["codex=warn", "warn"],
      ["info,foo=trace", "info"],
      ["foo=trace", undefined],
      ["codex_core=trace", undefined],
      ["warn,codex=info,codex_exec_server=trace", "trace"],
      ["codex_exec_server=trace,codex=info", "trace"],
      ["codex_exec_server", "trace"],
      ["off", "error"],
      ["codex_exec_server[span]=debug,error", "error"],
      ["nonsense=loud", undefined],
    ];
    for (const [value, level] of cases) expect([value, levelFromRustLog(value)]).toEqual([value, level]);
  });

  test("the flag wins over RUST_LOG; RUST_LOG over the default (info); format defaults to text", () => {
    const at = (argv: string[], env: Record<string, string>) => (parseArgs(argv, env) as { log: unknown }).log;
    expect(at([], {})).toEqual({ level: "info", format: "text" });
    expect(at([], { RUST_LOG: "codex_exec_server=debug" })).toEqual({ level: "debug", format: "text" });
    expect(at(["--log-level", "warn", "--log-format=json"], { RUST_LOG: "trace" })).toEqual({ level: "warn", format: "json" });
    expect(() => parseArgs(["--log-format", "xml"], {})).toThrow("invalid value 'xml' for '--log-format <FORMAT>' [possible values: text, json]");
  });
});
