#!/usr/bin/env bun
/**
 * `bun bench/slow-client.ts [--hold-seconds 30] [--mib 1024] [--timeout-seconds 300] [--source]
 *   [--only execbox|reference] [--ping-during-hold] [--no-write]`: a client that stops reading.
 *
 * For execbox (compiled as in servers.ts; --source: from source; $EXECBOX_BIN) and the reference ($CODEX_BIN), each
 * on a fresh server: a child writes --mib MiB (`yes <63-char line> | head -c N`) to stdout. The client is a raw TCP
 * socket (hand-written HTTP upgrade without Origin, masked client frames), so nothing reads behind its back: it sends
 * initialize / initialized / process/start, pauses the socket for --hold-seconds, then resumes and parses every server
 * frame (7/16/64-bit lengths, fragments, pings answered with masked pongs), checks each process/output chunk against
 * the pattern byte by byte in order, output seqs contiguous, and the total. Reported: server VmHWM (peak) and VmRSS at
 * the end of the hold, how much the child had written by then (its wchar), drain time (resume → process/closed) and
 * whether every byte arrived in order. A dropped connection or the drain timeout ends a run and is reported.
 * --ping-during-hold writes a masked ping every 5 s of the hold (still reading nothing): tells an idle-timeout drop
 * from a back-pressure one. Appends (replacing an earlier copy) a "## Slow client (…)" section to bench/results.md;
 * `bun run bench` rewrites that file, so run this after it.
 */
import { createHash, randomBytes } from "node:crypto";
import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Socket } from "bun";
import { PATTERN_LINE, withTimeout } from "./measure.ts";
import { REPO, type ServerCommand, execboxCommand, killAll, machineInfo, procStatusKiB, referenceCommand, startServer } from "./servers.ts";

const MiB = 1 << 20;
const args = process.argv.slice(2);
const known = ["--hold-seconds", "--mib", "--timeout-seconds", "--only", "--source", "--ping-during-hold", "--no-write"];
for (let i = 0; i < args.length; i++) {
  if (!known.includes(args[i]!)) throw new Error(`unknown option ${args[i]} (known: ${known.join(" ")})`);
  if (known.indexOf(args[i]!) < 4) i++;
}
const opt = (name: string, def: string): string => (args.includes(name) ? (args[args.indexOf(name) + 1] ?? def) : def);
const HOLD_S = Number(opt("--hold-seconds", "30"));
const BYTES = Number(opt("--mib", "1024")) * MiB;
const TIMEOUT_S = Number(opt("--timeout-seconds", "300"));
const log = (msg: string) => console.error(`[slow-client] ${msg}`);

/** WebSocket client frames over a raw TCP socket; reads only while not paused. */
class RawWs {
  private sock!: Socket<undefined>;
  private head = "";
  private open = false;
  private chunks: Buffer[] = [];
  private avail = 0;
  private frag: Buffer[] = [];
  private out: Buffer[] = [];
  private ready!: { resolve(): void; reject(e: Error): void };
  ended: string | null = null;
  pings = 0;
  fragmented = 0;
  onText: (text: string) => void = () => {};
  onEnd: (why: string) => void = () => {};

  static async connect(url: string): Promise<RawWs> {
    const u = new URL(url);
    const ws = new RawWs();
    const key = randomBytes(16).toString("base64");
    const opened = new Promise<void>((resolve, reject) => (ws.ready = { resolve, reject }));
    ws.sock = await Bun.connect({
      hostname: u.hostname,
      port: Number(u.port),
      socket: {
        data: (_s, d) => ws.data(d, key),
        drain: () => ws.flush(),
        close: () => ws.end("TCP connection closed by the server"),
        error: (_s, e) => ws.end(`socket error: ${e.message}`),
      },
    });
    ws.sock.write(`GET / HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    await withTimeout(opened, 10_000, "websocket upgrade");
    return ws;
  }

  pause = () => this.sock.pause();
  resume = () => this.sock.resume();
  close(): void {
    this.ended ??= "closed by client";
    this.sock.end();
  }

  /** One masked frame (FIN set). */
  send(opcode: number, payload: Buffer): void {
    const n = payload.length;
    const hl = n < 126 ? 2 : n < 65536 ? 4 : 10;
    const f = Buffer.alloc(hl + 4 + n);
    f[0] = 0x80 | opcode;
    f[1] = 0x80 | (n < 126 ? n : n < 65536 ? 126 : 127);
    if (hl === 4) f.writeUInt16BE(n, 2);
    if (hl === 10) f.writeBigUInt64BE(BigInt(n), 2);
    const mask = randomBytes(4);
    mask.copy(f, hl);
    for (let i = 0; i < n; i++) f[hl + 4 + i] = payload[i]! ^ mask[i & 3]!;
    this.out.push(f);
    this.flush();
  }
  text = (s: string) => this.send(0x1, Buffer.from(s));

  private flush(): void {
    while (this.out.length > 0 && this.ended === null) {
      const b = this.out[0]!;
      const n = this.sock.write(b);
      if (n >= b.length) this.out.shift();
      else {
        this.out[0] = b.subarray(Math.max(n, 0));
        return;
      }
    }
  }

  private end(why: string): void {
    if (this.ended !== null) return;
    this.ended = why;
    this.ready.reject(new Error(why));
    this.onEnd(why);
  }

  private data(d: Buffer, key: string): void {
    if (!this.open) {
      this.head += d.toString("latin1");
      const e = this.head.indexOf("\r\n\r\n");
      if (e < 0) return;
      const accept = createHash("sha1").update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest("base64");
      if (!/^HTTP\/1\.1 101 /.test(this.head) || !new RegExp(`^sec-websocket-accept: *${accept.replace(/[+/]/g, "\\$&")}\\s*$`, "im").test(this.head.slice(0, e))) {
        return this.end(`upgrade refused: ${this.head.slice(0, 300)}`);
      }
      this.open = true;
      d = Buffer.from(this.head.slice(e + 4), "latin1");
      this.ready.resolve();
    }
    if (d.length === 0) return;
    this.chunks.push(d);
    this.avail += d.length;
    this.parse();
  }

  /** At least `n` contiguous bytes at the front (merging only the first few chunks). */
  private peek(n: number): Buffer {
    while (this.chunks[0]!.length < n && this.chunks.length > 1) this.chunks.splice(0, 2, Buffer.concat([this.chunks[0]!, this.chunks[1]!]));
    return this.chunks[0]!;
  }

  private take(n: number): Buffer {
    this.avail -= n;
    const first = this.chunks[0]!;
    if (first.length >= n) {
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const parts: Buffer[] = [];
    for (let got = 0; got < n; ) {
      const c = this.chunks[0]!;
      const k = Math.min(c.length, n - got);
      parts.push(c.subarray(0, k));
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
      got += k;
    }
    return Buffer.concat(parts, n);
  }

  private parse(): void {
    while (this.avail >= 2 && this.ended === null) {
      const h = this.peek(Math.min(10, this.avail));
      if (h[1]! & 0x80) return this.end("protocol error: masked server frame");
      let len = h[1]! & 0x7f;
      let hl = 2;
      if (len === 126) [len, hl] = h.length < 4 ? [-1, 4] : [h.readUInt16BE(2), 4];
      else if (len === 127) [len, hl] = h.length < 10 ? [-1, 10] : [Number(h.readBigUInt64BE(2)), 10];
      if (len < 0 || this.avail < hl + len) return;
      const b0 = h[0]!;
      this.take(hl);
      this.frame((b0 & 0x80) !== 0, b0 & 0x0f, this.take(len));
    }
  }

  private frame(fin: boolean, op: number, payload: Buffer): void {
    if (op === 0x9) {
      this.pings++;
      this.send(0xa, payload);
    } else if (op === 0x8) {
      const code = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
      this.send(0x8, payload.subarray(0, 2));
      this.end(`close frame ${code} ${payload.subarray(2).toString()}`.trim());
    } else if (op === 0x1 || op === 0x2 || op === 0x0) {
      if (op !== 0x0) this.frag = [];
      this.frag.push(payload);
      if (!fin) return;
      if (this.frag.length > 1) this.fragmented++;
      const msg = this.frag.length === 1 ? payload : Buffer.concat(this.frag);
      this.frag = [];
      this.onText(msg.toString("utf8"));
    }
  }
}

/** The server's descendant named `head`: bytes it has written so far (wchar), or null once it is gone. */
function childWritten(root: number): number | null {
  const kids = new Map<number, number[]>();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const s = readFileSync(`/proc/${d}/stat`, "utf8");
      const ppid = Number(s.slice(s.lastIndexOf(")") + 2).split(" ")[1]);
      kids.set(ppid, [...(kids.get(ppid) ?? []), Number(d)]);
    } catch {} // Exited meanwhile.
  }
  for (const queue = [...(kids.get(root) ?? [])]; queue.length > 0; ) {
    const pid = queue.shift()!;
    queue.push(...(kids.get(pid) ?? []));
    try {
      if (readFileSync(`/proc/${pid}/comm`, "utf8").trim() !== "head") continue;
      return Number(/^wchar: (\d+)/m.exec(readFileSync(`/proc/${pid}/io`, "utf8"))?.[1]);
    } catch {}
  }
  return null;
}

type Outcome = {
  label: string; peakKiB: number; holdRssKiB: number; holdHwmKiB: number; childAtHold: number | null; rssTrail: string;
  drainS: number | null; received: number; frames: number; problem: string | null; ending: string; pings: number; fragmented: number;
};

async function measure(cmd: ServerCommand): Promise<Outcome> {
  const L = PATTERN_LINE.length + 1;
  const pattern = Buffer.from(`${PATTERN_LINE}\n`.repeat(Math.ceil((4 * MiB) / L) + 1));
  const span = pattern.length - L;
  const server = await startServer(cmd);
  const timers: Timer[] = [];
  let ws: RawWs | undefined;
  try {
    ws = await RawWs.connect(server.url);
    const sock = ws;
    const o: Outcome = { label: cmd.label, peakKiB: 0, holdRssKiB: 0, holdHwmKiB: 0, childAtHold: null, rssTrail: "", drainS: null, received: 0, frames: 0, problem: null, ending: "", pings: 0, fragmented: 0 };
    const answers = new Map<number, (m: { result?: unknown; error?: unknown }) => void>();
    let lastSeq = -1;
    let exit = "";
    let finish!: (why: string) => void;
    const done = new Promise<string>((resolve) => (finish = resolve));
    ws.onEnd = (why) => finish(`${why} after ${(o.received / MiB).toFixed(1)} MiB`);
    ws.onText = (text) => {
      if (text.indexOf('"process/output"') >= 0 && text.indexOf('"process/output"') < 24) {
        const c = text.indexOf('"chunk":"') + 9;
        const chunk = Buffer.from(text.slice(c, text.indexOf('"', c)), "base64");
        const s = text.indexOf('"seq":') + 6;
        const seq = parseInt(text.slice(s, s + 20), 10);
        o.frames++;
        if (o.problem === null) {
          if (!text.includes('"stream":"stdout"')) o.problem = `non-stdout output: ${chunk.toString().slice(0, 200)}`;
          else if (lastSeq >= 0 && seq !== lastSeq + 1) o.problem = `output seq ${seq} after ${lastSeq}`;
          for (let off = 0; off < chunk.length && o.problem === null; off += span) {
            const piece = chunk.subarray(off, Math.min(off + span, chunk.length));
            const p = (o.received + off) % L;
            if (!piece.equals(pattern.subarray(p, p + piece.length))) o.problem = `content mismatch within bytes ${o.received + off}..${o.received + off + piece.length}`;
          }
        }
        lastSeq = seq;
        o.received += chunk.length;
        return;
      }
      const m = JSON.parse(text) as { id?: number; method?: string; params?: { seq?: number; exitCode?: number }; result?: unknown; error?: unknown };
      if (typeof m.id === "number") answers.get(m.id)?.(m);
      else if (m.method === "process/exited") exit = `exit ${m.params?.exitCode}, exited seq ${m.params?.seq}`;
      else if (m.method === "process/closed") finish(`process/closed (${exit}, closed seq ${m.params?.seq}, last output seq ${lastSeq})`);
    };
    const call = (id: number, method: string, params: unknown) => {
      const answer = new Promise<{ result?: unknown; error?: unknown }>((resolve) => answers.set(id, resolve));
      sock.text(JSON.stringify({ id, method, params }));
      return answer;
    };
    const init = await withTimeout(call(1, "initialize", { clientName: "slow-client" }), 10_000, "initialize");
    if (init.error) throw new Error(`initialize failed: ${JSON.stringify(init.error)}`);
    ws.text(JSON.stringify({ method: "initialized", params: {} }));
    const argv = ["/bin/sh", "-c", `yes '${PATTERN_LINE}' | head -c ${BYTES}`];
    const started = call(2, "process/start", { processId: "slow", argv, cwd: "file:///tmp", env: { PATH: "/usr/bin:/bin" }, tty: false });
    ws.pause(); // From here on nothing is read from the socket until the hold ends.
    const t0 = performance.now();
    const trail: string[] = [];
    timers.push(setInterval(() => trail.push(`${Math.round((performance.now() - t0) / 1000)}s:${(procStatusKiB(server.pid, "VmRSS") / 1024).toFixed(0)}`), 5000));
    if (args.includes("--ping-during-hold")) timers.push(setInterval(() => sock.send(0x9, Buffer.from("hold")), 5000));
    await Bun.sleep(HOLD_S * 1000);
    for (const t of timers.splice(0)) clearInterval(t);
    o.holdRssKiB = procStatusKiB(server.pid, "VmRSS");
    o.holdHwmKiB = procStatusKiB(server.pid, "VmHWM");
    o.childAtHold = childWritten(server.pid);
    o.rssTrail = trail.join(" ");
    log(`  end of hold: VmRSS ${(o.holdRssKiB / 1024).toFixed(1)} MiB, VmHWM ${(o.holdHwmKiB / 1024).toFixed(1)} MiB, child wrote ${o.childAtHold === null ? "(gone)" : `${(o.childAtHold / MiB).toFixed(1)} MiB`}; RSS trail ${o.rssTrail}`);
    const t1 = performance.now();
    ws.resume();
    void started.then((r) => r.error && (o.problem ??= `process/start failed: ${JSON.stringify(r.error)}`));
    try {
      o.ending = await withTimeout(done, TIMEOUT_S * 1000, "drain");
      if (o.ending.startsWith("process/closed")) o.drainS = (performance.now() - t1) / 1000;
    } catch (e) {
      o.ending = `${(e as Error).message} with ${(o.received / MiB).toFixed(1)} MiB received`;
    }
    o.peakKiB = procStatusKiB(server.pid, "VmHWM");
    o.pings = ws.pings;
    o.fragmented = ws.fragmented;
    if (o.problem === null && o.received !== BYTES) o.problem = `received ${o.received} of ${BYTES} bytes`;
    return o;
  } finally {
    for (const t of timers) clearInterval(t);
    ws?.close();
    const errText = server.stderr().trim();
    if (errText) log(`  server stderr (tail): ${errText.slice(-1500)}`);
    await server.kill();
  }
}

function section(outs: Outcome[]): string {
  const m = machineInfo();
  const rev = Bun.spawnSync(["git", "describe", "--always", "--dirty"], { cwd: REPO, stdout: "pipe" }).stdout.toString().trim();
  const mib = (k: number) => (k / 1024).toFixed(1);
  const rows: [string, (o: Outcome) => string][] = [
    ["Peak server RSS, VmHWM (MiB)", (o) => mib(o.peakKiB) + (o.label.startsWith("execbox") ? ` (target < 150 ${o.peakKiB < 150 * 1024 ? "✅" : "❌"})` : "")],
    ["VmRSS / VmHWM at end of hold (MiB)", (o) => `${mib(o.holdRssKiB)} / ${mib(o.holdHwmKiB)}`],
    ["Child's stdout written by end of hold (MiB)", (o) => (o.childAtHold === null ? "child already gone" : (o.childAtHold / MiB).toFixed(1))],
    ["Drain time, resume → process/closed (s)", (o) => (o.drainS === null ? "did not finish" : o.drainS.toFixed(1))],
    [`Bytes received (of ${BYTES / MiB} MiB)`, (o) => `${(o.received / MiB).toFixed(1)} MiB in ${o.frames} frames`],
    ["Every byte in order", (o) => (o.problem === null ? "yes ✅" : `no ❌ ${o.problem}`)],
    ["How the run ended", (o) => o.ending],
    ["Pings answered / fragmented messages", (o) => `${o.pings} / ${o.fragmented}`],
    ["VmRSS during hold (s:MiB)", (o) => o.rssTrail],
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
    const o = await measure(cmd).catch((e: Error): Outcome => ({ label: cmd.label, peakKiB: 0, holdRssKiB: 0, holdHwmKiB: 0, childAtHold: null, rssTrail: "", drainS: null, received: 0, frames: 0, problem: e.message, ending: "error", pings: 0, fragmented: 0 }));
    log(`  peak ${(o.peakKiB / 1024).toFixed(1)} MiB, drain ${o.drainS?.toFixed(1) ?? "-"} s, ${o.ending}; ${o.problem ?? "every byte in order"}`);
    outs.push(o);
  }
  const text = section(outs);
  console.log(text);
  if (args.includes("--no-write")) return;
  const file = join(REPO, "bench/results.md");
  const old = existsSync(file) ? readFileSync(file, "utf8") : "";
  const heading = text.slice(0, text.indexOf("\n"));
  const at = old.indexOf(`${heading}\n`);
  const next = at < 0 ? -1 : old.indexOf("\n## ", at + heading.length);
  const merged = at < 0 ? `${old.trimEnd()}\n\n${text}` : `${old.slice(0, at)}${text}${next < 0 ? "" : old.slice(next + 1)}`;
  writeFileSync(file, merged);
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
