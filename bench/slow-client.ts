#!/usr/bin/env bun
/**
 * `bun bench/slow-client.ts [--hold-seconds 30] [--mib 1024] [--timeout-seconds 300] [--source]
 *   [--only execbox|reference] [--ping-during-hold] [--no-write] [--tty]` — a client that stops reading.
 *
 * For execbox (compiled as in servers.ts, or --source, or $EXECBOX_BIN) and the reference ($CODEX_BIN), fresh server
 * each: a child writes --mib MiB (`yes <63-char line> | head -c N`) to stdout. The client is a raw TCP socket (own
 * HTTP upgrade without Origin, masked frames), so nothing reads behind its back: initialize / initialized /
 * process/start, then the socket is paused for --hold-seconds, then every frame is parsed (7/16/64-bit lengths,
 * fragments, pings answered with masked pongs) and each output chunk checked byte by byte against the pattern, with
 * contiguous seqs and the exact total. Reports server VmHWM, VmRSS at the end of the hold, the child's wchar then,
 * drain time (resume → process/closed), and how the run ended (a dropped connection or --timeout-seconds ends it).
 * --ping-during-hold sends a masked ping every 5 s of the hold (still reading nothing): an idle-timeout drop vs a
 * back-pressure one. --tty: the child writes zeros into a PTY instead (`head -c N /dev/zero`), which Bun reads by
 * callback, so execbox must stop the terminal rather than stop reading. Appends (or replaces) "## Slow client (…)" in
 * bench/results.md.
 */
import { join } from "node:path";
import { childWritten } from "../test/helpers/proc.ts";
import { RawWs } from "../test/helpers/raw-ws.ts";
import { PATTERN_LINE, withTimeout } from "./measure.ts";
import { resultsSection, writeResultsSection } from "./results-file.ts";
import { type ServerCommand, chosenServers, procStatusKiB, runBench, startServer } from "./servers.ts";

const MiB = 1 << 20;
const args = process.argv.slice(2);
const VALUED = ["--hold-seconds", "--mib", "--timeout-seconds", "--only"];
for (let i = 0; i < args.length; i += VALUED.includes(args[i]!) ? 2 : 1)
  if (![...VALUED, "--source", "--ping-during-hold", "--no-write", "--tty"].includes(args[i]!)) throw new Error(`unknown option ${args[i]}`);
const opt = (name: string, def: string): string => (args.includes(name) ? (args[args.indexOf(name) + 1] ?? def) : def);
const [HOLD_S, BYTES, TIMEOUT_S] = [Number(opt("--hold-seconds", "30")), Number(opt("--mib", "1024")) * MiB, Number(opt("--timeout-seconds", "300"))];
/** `--tty`: the child writes zeros into a PTY (a terminal would turn the pattern's newlines into CRLF). */
const TTY = args.includes("--tty");
const CHILD = TTY ? `head -c ${BYTES} /dev/zero` : `yes '${PATTERN_LINE}' | head -c ${BYTES}`;
const log = (msg: string) => console.error(`[slow-client] ${msg}`);
const mib = (bytes: number) => (bytes / MiB).toFixed(1);
const rss = (pid: number, field: "VmRSS" | "VmHWM") => procStatusKiB(pid, field) * 1024;

type Outcome = ReturnType<typeof blank>;
const blank = (label: string) => ({
  label, peak: 0, holdRss: 0, holdHwm: 0, childAtHold: null as number | null, trail: "", drainS: null as number | null,
  received: 0, frames: 0, problem: null as string | null, ending: "", pings: 0, fragmented: 0,
});
type Reply = { result?: unknown; error?: unknown };

async function measure(cmd: ServerCommand): Promise<Outcome> {
  const L = TTY ? 1 : PATTERN_LINE.length + 1;
  const pattern = TTY ? Buffer.alloc(4 * MiB + 1) : Buffer.from(`${PATTERN_LINE}\n`.repeat(Math.ceil((4 * MiB) / L) + 1));
  const server = await startServer(cmd);
  const timers: Timer[] = [];
  const ws = await RawWs.connect(server.url).catch(async (e: Error) => (await server.kill(), Promise.reject(e)));
  try {
    const o = blank(cmd.label);
    const answers = new Map<number, (m: Reply) => void>();
    const gaps: number[] = []; // Seqs output skipped: allowed only for the exited notification's.
    let [lastSeq, exitedSeq, closedSeq, exit] = [0, -1, -1, "no process/exited"]; // Seqs start at 1.
    let finish!: (why: string) => void;
    const done = new Promise<string>((resolve) => (finish = resolve));
    ws.onEnd = (why) => finish(`${why} after ${mib(o.received)} MiB`);
    ws.onText = (text) => {
      const at = text.indexOf('"process/output"');
      if (at < 0 || at > 24) {
        const m = JSON.parse(text) as Reply & { id?: number; method?: string; params?: { seq?: number; exitCode?: number } };
        if (typeof m.id === "number") answers.get(m.id)?.(m);
        else if (m.method === "process/exited") {
          [exitedSeq, exit] = [m.params?.seq ?? -1, `exit ${m.params?.exitCode}, seq ${m.params?.seq} after output seq ${lastSeq}${closedSeq < 0 ? "" : " and after process/closed"}`];
        } else if (m.method === "process/closed") {
          closedSeq = m.params?.seq ?? -1;
          finish("process/closed");
        }
        return;
      }
      const c = text.indexOf('"chunk":"') + 9;
      const chunk = Buffer.from(text.slice(c, text.indexOf('"', c)), "base64");
      const seq = parseInt(text.slice(text.indexOf('"seq":') + 6), 10);
      o.frames++;
      if (o.problem === null && !text.includes(TTY ? '"stream":"pty"' : '"stream":"stdout"')) o.problem = `output on another stream: ${chunk.toString().slice(0, 200)}`;
      if (o.problem === null && seq <= lastSeq) o.problem = `output seq ${seq} after ${lastSeq}`;
      for (let g = lastSeq + 1; g < seq; g++) gaps.push(g);
      for (let off = 0, span = pattern.length - L; off < chunk.length && o.problem === null; off += span) {
        const piece = chunk.subarray(off, Math.min(off + span, chunk.length));
        const p = (o.received + off) % L;
        if (!piece.equals(pattern.subarray(p, p + piece.length))) o.problem = `content mismatch in bytes ${o.received + off}..${o.received + off + piece.length}`;
      }
      [lastSeq, o.received] = [seq, o.received + chunk.length];
    };
    const call = (id: number, method: string, params: unknown) =>
      new Promise<Reply>((resolve) => (answers.set(id, resolve), ws.text(JSON.stringify({ id, method, params }))));
    const init = await withTimeout(call(1, "initialize", { clientName: "slow-client" }), 10_000, "initialize");
    if (init.error) throw new Error(`initialize failed: ${JSON.stringify(init.error)}`);
    ws.text(JSON.stringify({ method: "initialized", params: {} }));
    const argv = ["/bin/sh", "-c", CHILD];
    const started = call(2, "process/start", { processId: "slow", argv, cwd: "file:///tmp", env: { PATH: "/usr/bin:/bin" }, tty: TTY });
    ws.pause(); // From here on nothing is read from the socket until the hold ends.
    const [t0, trail] = [performance.now(), [] as string[]];
    timers.push(setInterval(() => trail.push(`${Math.round((performance.now() - t0) / 1000)}s:${(rss(server.pid, "VmRSS") / MiB).toFixed(0)}`), 5000));
    if (args.includes("--ping-during-hold")) timers.push(setInterval(() => ws.send(0x9, Buffer.from("hold")), 5000));
    await Bun.sleep(HOLD_S * 1000);
    for (const t of timers.splice(0)) clearInterval(t);
    [o.holdRss, o.holdHwm, o.childAtHold, o.trail] = [rss(server.pid, "VmRSS"), rss(server.pid, "VmHWM"), childWritten(server.pid), trail.join(" ")];
    log(`  end of hold: VmRSS ${mib(o.holdRss)} MiB, VmHWM ${mib(o.holdHwm)} MiB, child wrote ${o.childAtHold === null ? "(gone)" : `${mib(o.childAtHold)} MiB`}; RSS ${o.trail}`);
    const t1 = performance.now();
    ws.resume();
    void started.then((r) => r.error && (o.problem ??= `process/start failed: ${JSON.stringify(r.error)}`));
    o.ending = await withTimeout(done, TIMEOUT_S * 1000, "drain").catch((e: Error) => `${e.message} with ${mib(o.received)} MiB received`);
    if (o.ending === "process/closed") {
      o.drainS = (performance.now() - t1) / 1000;
      await Bun.sleep(300); // Anything sent after process/closed (it should be last) is reported too.
      o.ending = `process/closed seq ${closedSeq} (${exit}; last output seq ${lastSeq})`;
    }
    [o.peak, o.pings, o.fragmented] = [rss(server.pid, "VmHWM"), ws.pings, ws.fragmented];
    if (o.problem === null && gaps.some((g) => g !== exitedSeq)) o.problem = `output seqs skip ${gaps.slice(0, 5).join(", ")} (${exit})`;
    if (o.problem === null && exitedSeq < 0 && o.ending.startsWith("process/closed")) o.problem = "process/closed arrived without process/exited";
    if (o.problem === null && o.received !== BYTES) o.problem = `received ${o.received} of ${BYTES} bytes`;
    return o;
  } finally {
    for (const t of timers) clearInterval(t);
    ws.close();
    const errText = server.stderr().trim();
    if (errText) log(`  server stderr (tail): ${errText.slice(-1500)}`);
    await server.kill();
  }
}

function section(outs: Outcome[]): string {
  const rows: [string, (o: Outcome) => string][] = [
    ["Peak server RSS, VmHWM (MiB)", (o) => mib(o.peak) + (o.label.startsWith("execbox") ? ` (target < 150 ${o.peak < 150 * MiB ? "✅" : "❌"})` : "")],
    ["VmRSS / VmHWM at end of hold (MiB)", (o) => `${mib(o.holdRss)} / ${mib(o.holdHwm)}`],
    ["Child's stdout written by end of hold (MiB)", (o) => (o.childAtHold === null ? "child already gone" : mib(o.childAtHold))],
    ["Drain time, resume → process/closed (s)", (o) => (o.drainS === null ? "did not finish" : o.drainS.toFixed(1))],
    [`Received (of ${BYTES / MiB} MiB)`, (o) => `${mib(o.received)} MiB in ${o.frames} frames`],
    ["Every byte in order, seqs contiguous", (o) => (o.problem === null ? "yes ✅" : `no ❌ ${o.problem}`)],
    ["How the run ended", (o) => o.ending],
    ["Pings received (answered) / fragmented messages", (o) => `${o.pings} / ${o.fragmented}`],
    ["VmRSS during hold (s:MiB)", (o) => o.trail],
  ];
  const how =
    `- \`bun bench/slow-client.ts ${args.join(" ")}\`: fresh server each; child \`sh -c "${TTY ? CHILD : `yes <63-char line> | head -c ${BYTES}`}"\`${TTY ? " in a PTY" : ""};` +
    ` raw-TCP client sends initialize/initialized/process/start, reads nothing for ${HOLD_S} s, then drains and checks every byte, seq and the total`;
  return resultsSection(`Slow client (${BYTES % (1 << 30) === 0 ? `${BYTES / (1 << 30)} GiB` : `${BYTES / MiB} MiB`}, ${HOLD_S} s hold${TTY ? ", PTY" : ""})`, how, outs, rows);
}

async function main(): Promise<void> {
  const outs: Outcome[] = [];
  for (const cmd of chosenServers(opt("--only", ""), args.includes("--source"))) {
    log(`${cmd.label}: ${BYTES / MiB} MiB, hold ${HOLD_S} s`);
    const o = await measure(cmd).catch((e: Error) => ({ ...blank(cmd.label), problem: e.message, ending: "error" }));
    log(`  peak ${mib(o.peak)} MiB, drain ${o.drainS?.toFixed(1) ?? "-"} s, ${o.ending}; ${o.problem ?? "every byte in order"}`);
    outs.push(o);
  }
  const text = section(outs);
  console.log(text);
  if (args.includes("--no-write")) return;
  writeResultsSection(text);
  log("wrote bench/results.md");
}

await runBench("slow-client", main);
