#!/usr/bin/env bun
/**
 * `bun bench/big-messages.ts [--mib 170] [--connections 3] [--after-seconds 10] [--one-at-a-time] [--source]
 *   [--only execbox|reference] [--no-write]`
 * — does memory come back after large messages?
 *
 * For execbox (compiled as in servers.ts, or --source, or $EXECBOX_BIN) and the reference ($CODEX_BIN), fresh server
 * each: --connections raw WebSocket clients, each initialized with a `cat > /dev/null` process, send their share of
 * --mib MiB of 4–15 MiB messages at once (or --one-at-a-time, each after the previous answer) (fs/writeFile into a temp dir, process/write, big unknown fields, a third in
 * up to 1,000 continuation frames, ~30 % malformed: bad base64, truncated JSON, trailing garbage; a small malformed
 * one after each) and wait for every answer. Reports the server's VmRSS before, VmHWM, VmRSS when the last answer
 * arrived and --after-seconds later, and whether it still answers. Appends (or replaces) "## Big messages (…)" in
 * bench/results.md.
 */
import { bigMessages, initializeRaw, sendAndAwaitAnswers, startSink } from "../test/helpers/big-messages.ts";
import { RawWs } from "../test/helpers/raw-ws.ts";
import { resultsSection, writeResultsSection } from "./results-file.ts";
import { type ServerCommand, chosenServers, makeTempDir, procStatusKiB, runBench, startServer } from "./servers.ts";

const MiB = 1 << 20;
const args = process.argv.slice(2);
const VALUED = ["--mib", "--connections", "--after-seconds", "--only"];
for (let i = 0; i < args.length; i += VALUED.includes(args[i]!) ? 2 : 1)
  if (![...VALUED, "--source", "--no-write", "--one-at-a-time"].includes(args[i]!)) throw new Error(`unknown option ${args[i]}`);
const opt = (name: string, def: string): string => (args.includes(name) ? (args[args.indexOf(name) + 1] ?? def) : def);
const [TOTAL, CONNECTIONS, AFTER_S] = [Number(opt("--mib", "170")) * MiB, Number(opt("--connections", "3")), Number(opt("--after-seconds", "10"))];
/** Each client waits for the answer before sending its next message. */
const ONE_AT_A_TIME = args.includes("--one-at-a-time");
const log = (msg: string) => console.error(`[big-messages] ${msg}`);
const mib = (kib: number) => (kib / 1024).toFixed(1);

const dir = makeTempDir("execbox-big-messages-");
const workloads = Array.from({ length: CONNECTIONS }, (_, c) =>
  bigMessages({ dirUri: `file://${dir}/c${c}`, processId: "sink", seed: 20261206 + c, totalBytes: TOTAL / CONNECTIONS }),
);

type Outcome = { label: string; startKiB: number; peakKiB: number; endKiB: number; afterKiB: number; trail: string; seconds: number; errors: number; alive: string };

async function measure(cmd: ServerCommand): Promise<Outcome> {
  for (let c = 0; c < CONNECTIONS; c++) Bun.spawnSync(["mkdir", "-p", `${dir}/c${c}`]);
  const server = await startServer(cmd);
  const clients: RawWs[] = [];
  try {
    for (let c = 0; c < CONNECTIONS; c++) {
      const ws = await RawWs.connect(server.url);
      clients.push(ws);
      await initializeRaw(ws, `big-messages-${c}`);
      await startSink(ws, "sink");
    }
    const startKiB = procStatusKiB(server.pid, "VmRSS");
    const t0 = performance.now();
    const send = async (ws: RawWs, c: number) => {
      if (!ONE_AT_A_TIME) return sendAndAwaitAnswers(ws, workloads[c]!, 300_000);
      const all = [];
      for (const m of workloads[c]!) all.push(...(await sendAndAwaitAnswers(ws, [m], 60_000)));
      return all;
    };
    const answers = await Promise.all(clients.map(send));
    const seconds = (performance.now() - t0) / 1000;
    const endKiB = procStatusKiB(server.pid, "VmRSS");
    const trail: string[] = [];
    for (let s = 1; s <= AFTER_S; s++) {
      await Bun.sleep(1000);
      trail.push(`${s}s:${mib(procStatusKiB(server.pid, "VmRSS"))}`);
    }
    const afterKiB = procStatusKiB(server.pid, "VmRSS");
    const peakKiB = procStatusKiB(server.pid, "VmHWM");
    const probe = await sendAndAwaitAnswers(clients[0]!, [{ kind: "status", bytes: Buffer.from('{"id":7,"method":"environment/status"}'), fragments: 1 }], 10_000);
    const errors = answers.flat().filter((a) => a.error).length;
    return { label: cmd.label, startKiB, peakKiB, endKiB, afterKiB, trail: trail.join(" "), seconds, errors, alive: probe[0]?.error ? "no" : "yes" };
  } finally {
    for (const ws of clients) ws.close();
    await server.kill();
  }
}

function section(outs: Outcome[]): string {
  const count = workloads.reduce((n, w) => n + w.length, 0);
  const bytes = workloads.flat().reduce((n, x) => n + x.bytes.length, 0);
  const rows: [string, (o: Outcome) => string][] = [
    ["VmRSS before (MiB)", (o) => mib(o.startKiB)],
    ["Peak, VmHWM (MiB)", (o) => mib(o.peakKiB)],
    ["VmRSS at the last answer (MiB)", (o) => mib(o.endKiB)],
    [`VmRSS ${AFTER_S} s later (MiB)`, (o) => `${mib(o.afterKiB)} (+${mib(o.afterKiB - o.startKiB)})`],
    ["Time to answer everything (s)", (o) => o.seconds.toFixed(1)],
    ["Error answers / still answers", (o) => `${o.errors} / ${o.alive}`],
    ["VmRSS after the last answer (s:MiB)", (o) => o.trail],
  ];
  const how =
    `- \`bun bench/big-messages.ts ${args.join(" ")}\`: fresh server each; ${count} messages (half of them 4–15 MiB: fs/writeFile, process/write,` +
    ` big unknown fields, a third fragmented, ~30 % malformed), ${ONE_AT_A_TIME ? "each sent after the previous answer" : "all sent at once"}, every answer awaited`;
  return resultsSection(`Big messages (${(bytes / MiB).toFixed(0)} MiB, ${CONNECTIONS} connections)`, how, outs, rows);
}

async function main(): Promise<void> {
  const outs: Outcome[] = [];
  for (const cmd of chosenServers(opt("--only", ""), args.includes("--source"))) {
    log(`${cmd.label}`);
    const o = await measure(cmd);
    log(`  start ${mib(o.startKiB)} MiB, peak ${mib(o.peakKiB)}, at end ${mib(o.endKiB)}, ${AFTER_S} s later ${mib(o.afterKiB)}; ${o.trail}`);
    outs.push(o);
  }
  const text = section(outs);
  console.log(text);
  if (!args.includes("--no-write")) writeResultsSection(text);
}

await runBench("big-messages", main);
