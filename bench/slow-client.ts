#!/usr/bin/env bun
/**
 * `bun bench/slow-client.ts [--hold-seconds 30] [--mib 1024] [--timeout-seconds 300] [--source]
 *   [--only execbox|reference] [--ping-during-hold] [--no-write]` — a client that stops reading.
 *
 * For execbox (compiled as in servers.ts, or --source, or $EXECBOX_BIN) and the reference ($CODEX_BIN), fresh server
 * each: a child writes --mib MiB (`yes <63-char line> | head -c N`) to stdout. The client is a raw TCP socket (own
 * HTTP upgrade without Origin, masked frames), so nothing reads behind its back: initialize / initialized /
 * process/start, then the socket is paused for --hold-seconds, then every frame is parsed (7/16/64-bit lengths,
 * fragments, pings answered with masked pongs) and each output chunk checked byte by byte against the pattern, with
 * contiguous seqs and the exact total. Reports server VmHWM, VmRSS at the end of the hold, the child's wchar then,
 * drain time (resume → process/closed), and how the run ended (a dropped connection or --timeout-seconds ends it).
 * --ping-during-hold sends a masked ping every 5 s of the hold (still reading nothing): an idle-timeout drop vs a
 * back-pressure one. Appends (or replaces) "## Slow client (…)" in bench/results.md; `bun run bench` rewrites that file.
 */
import { createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Socket } from "bun";
import { PATTERN_LINE, withTimeout } from "./measure.ts";
import { writeResultsSection } from "./results-file.ts";
import { REPO, type ServerCommand, execboxCommand, killAll, machineInfo, procStatusKiB, referenceCommand, startServer } from "./servers.ts";

const MiB = 1 << 20;
const args = process.argv.slice(2);
const VALUED = ["--hold-seconds", "--mib", "--timeout-seconds", "--only"];
for (let i = 0; i < args.length; i += VALUED.includes(args[i]!) ? 2 : 1)
  if (![...VALUED, "--source", "--ping-during-hold", "--no-write"].includes(args[i]!)) throw new Error(`unknown option ${args[i]}`);
const opt = (name: string, def: string): string => (args.includes(name) ? (args[args.indexOf(name) + 1] ?? def) : def);
const [HOLD_S, BYTES, TIMEOUT_S] = [Number(opt("--hold-seconds", "30")), Number(opt("--mib", "1024")) * MiB, Number(opt("--timeout-seconds", "300"))];
const log = (msg: string) => console.error(`[slow-client] ${msg}`);
const mib = (bytes: number) => (bytes / MiB).toFixed(1);
const rss = (pid: number, field: "VmRSS" | "VmHWM") => procStatusKiB(pid, field) * 1024;

/** WebSocket client frames over a raw TCP socket; reads only while not paused. */
class RawWs {
  private sock!: Socket<undefined>;
  private ready!: { resolve(): void; reject(e: Error): void };
  private head: string | null = ""; // The HTTP response head until the 101 is in.
  private buf = Buffer.alloc(1 << 20); private len = 0; private frag: Buffer[] = []; private out: Buffer[] = [];
  ended: string | null = null; pings = 0; fragmented = 0;
  onText: (text: string) => void = () => {};
  onEnd: (why: string) => void = () => {};

  static async connect(url: string): Promise<RawWs> {
    const [u, ws, key] = [new URL(url), new RawWs(), randomBytes(16).toString("base64")];
    const opened = new Promise<void>((resolve, reject) => (ws.ready = { resolve, reject }));
    ws.sock = await Bun.connect({ hostname: u.hostname, port: Number(u.port), socket: {
      data: (_s, d) => ws.data(d, key), drain: () => ws.flush(),
      close: () => ws.end("TCP connection closed by the server"), error: (_s, e) => ws.end(`socket error: ${e.message}`) } });
    ws.sock.write(`GET / HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    await withTimeout(opened, 10_000, "websocket upgrade");
    return ws;
  }

  pause = () => this.sock.pause();
  resume = () => this.sock.resume();
  text = (s: string) => this.send(0x1, Buffer.from(s));
  close(): void {
    this.ended ??= "closed by client";
    this.sock.end();
  }

  /** One masked frame (FIN set). */
  send(opcode: number, payload: Buffer): void {
    const n = payload.length;
    const hl = n < 126 ? 2 : n < 65536 ? 4 : 10;
    const [f, mask] = [Buffer.alloc(hl + 4 + n), randomBytes(4)];
    [f[0], f[1]] = [0x80 | opcode, 0x80 | (n < 126 ? n : n < 65536 ? 126 : 127)];
    if (hl > 2) void (hl === 4 ? f.writeUInt16BE(n, 2) : f.writeBigUInt64BE(BigInt(n), 2));
    mask.copy(f, hl);
    for (let i = 0; i < n; i++) f[hl + 4 + i] = payload[i]! ^ mask[i & 3]!;
    this.out.push(f);
    this.flush();
  }

  private flush(): void {
    for (let b = this.out[0]; b && this.ended === null; b = this.out[0]) {
      const n = this.sock.write(b);
      if (n < b.length) return void (this.out[0] = b.subarray(Math.max(n, 0)));
      this.out.shift();
    }
  }

  private end(why: string): void {
    if (this.ended !== null) return;
    this.ended = why;
    this.ready.reject(new Error(why));
    this.onEnd(why);
  }

  private data(d: Buffer, key: string): void {
    if (this.head !== null) {
      this.head += d.toString("latin1");
      const e = this.head.indexOf("\r\n\r\n");
      if (e < 0) return;
      const accept = createHash("sha1").update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest("base64").toLowerCase();
      if (!/^HTTP\/1\.1 101 /.test(this.head) || !this.head.slice(0, e + 2).toLowerCase().includes(`\r\nsec-websocket-accept: ${accept}\r\n`)) {
        return this.end(`upgrade refused: ${this.head.slice(0, 300)}`);
      }
      [d, this.head] = [Buffer.from(this.head.slice(e + 4), "latin1"), null];
      this.ready.resolve();
    }
    if (this.len + d.length > this.buf.length) this.buf = Buffer.concat([this.buf.subarray(0, this.len)], 2 * (this.len + d.length));
    this.len += d.copy(this.buf, this.len);
    let off = 0; // Handle every complete frame, then move the remainder to the front.
    for (const b = this.buf; this.len - off >= 2 && this.ended === null; ) {
      if (b[off + 1]! & 0x80) return this.end("protocol error: masked server frame");
      const l7 = b[off + 1]! & 0x7f;
      const hl = l7 === 126 ? 4 : l7 === 127 ? 10 : 2;
      const n = this.len - off < hl ? Infinity : l7 === 126 ? b.readUInt16BE(off + 2) : l7 === 127 ? Number(b.readBigUInt64BE(off + 2)) : l7;
      if (this.len - off < hl + n) break;
      this.frame((b[off]! & 0x80) !== 0, b[off]! & 0x0f, b.subarray(off + hl, off + hl + n));
      off += hl + n;
    }
    this.buf.copy(this.buf, 0, off, this.len);
    this.len -= off;
  }

  /** `payload` is only valid during the call (the buffer is reused). */
  private frame(fin: boolean, op: number, payload: Buffer): void {
    if (op === 0x9) {
      this.pings++;
      this.send(0xa, payload);
    } else if (op === 0x8) {
      this.send(0x8, payload.subarray(0, 2));
      this.end(`close frame ${payload.length >= 2 ? payload.readUInt16BE(0) : 1005} ${payload.subarray(2).toString()}`.trim());
    } else if (op <= 0x2) {
      if (op !== 0x0) this.frag = [];
      if (fin && this.frag.length === 0) return this.onText(payload.toString("utf8"));
      this.frag.push(Buffer.from(payload));
      if (!fin) return;
      this.fragmented++;
      this.onText(Buffer.concat(this.frag.splice(0)).toString("utf8"));
    }
  }
}

/** The server's descendant named `head`: bytes it has written so far (wchar), or null once it is gone. */
function childWritten(root: number): number | null {
  const rows = Bun.spawnSync(["ps", "-e", "-o", "pid=,ppid=,comm="]).stdout.toString().trim().split("\n").map((l) => l.trim().split(/\s+/));
  const mine = new Set([String(root)]);
  for (let n = 0; n !== mine.size; ) {
    n = mine.size;
    for (const [pid, ppid] of rows) if (mine.has(ppid!)) mine.add(pid!);
  }
  const head = rows.find(([pid, , comm]) => mine.has(pid!) && comm === "head")?.[0];
  try {
    return head ? Number(/^wchar: (\d+)/m.exec(readFileSync(`/proc/${head}/io`, "utf8"))?.[1]) : null;
  } catch {
    return null; // Exited meanwhile.
  }
}

type Outcome = ReturnType<typeof blank>;
const blank = (label: string) => ({
  label, peak: 0, holdRss: 0, holdHwm: 0, childAtHold: null as number | null, trail: "", drainS: null as number | null,
  received: 0, frames: 0, problem: null as string | null, ending: "", pings: 0, fragmented: 0,
});
type Reply = { result?: unknown; error?: unknown };

async function measure(cmd: ServerCommand): Promise<Outcome> {
  const L = PATTERN_LINE.length + 1;
  const pattern = Buffer.from(`${PATTERN_LINE}\n`.repeat(Math.ceil((4 * MiB) / L) + 1));
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
      if (o.problem === null && !text.includes('"stream":"stdout"')) o.problem = `non-stdout output: ${chunk.toString().slice(0, 200)}`;
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
    const argv = ["/bin/sh", "-c", `yes '${PATTERN_LINE}' | head -c ${BYTES}`];
    const started = call(2, "process/start", { processId: "slow", argv, cwd: "file:///tmp", env: { PATH: "/usr/bin:/bin" }, tty: false });
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
  const m = machineInfo();
  const rev = Bun.spawnSync(["git", "describe", "--always", "--dirty"], { cwd: REPO, stdout: "pipe" }).stdout.toString().trim();
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
  return [
    `## Slow client (${BYTES % (1 << 30) === 0 ? `${BYTES / (1 << 30)} GiB` : `${BYTES / MiB} MiB`}, ${HOLD_S} s hold)`,
    "",
    `- date: ${new Date().toISOString()}; ${m.nproc} CPUs, ${m.cpu}, Linux ${m.kernel}, Bun ${Bun.version}; execbox git ${rev}`,
    `- \`bun bench/slow-client.ts ${args.join(" ")}\`: fresh server each; child \`sh -c "yes <63-char line> | head -c ${BYTES}"\`;` +
      ` raw-TCP client sends initialize/initialized/process/start, reads nothing for ${HOLD_S} s, then drains and checks every byte, seq and the total`,
    "",
    `| Metric | ${outs.map((o) => o.label).join(" | ")} |`,
    `|---|${outs.map(() => "---").join("|")}|`,
    ...rows.map(([name, f]) => `| ${name} | ${outs.map(f).join(" | ")} |`),
    "",
  ].join("\n");
}

async function main(): Promise<void> {
  const only = opt("--only", "");
  const cmds = [...(only !== "reference" ? [execboxCommand(args.includes("--source"))] : []), ...(only !== "execbox" ? [referenceCommand()] : [])];
  const outs: Outcome[] = [];
  for (const cmd of cmds) {
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

process.on("exit", killAll);
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(sig, () => (killAll(), process.exit(130)));
try {
  await main();
} catch (e) {
  console.error(`[slow-client] failed: ${(e as Error).stack ?? String(e)}`);
  process.exitCode = 1;
} finally {
  killAll();
}
