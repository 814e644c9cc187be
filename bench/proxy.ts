#!/usr/bin/env bun
/**
 * `bun bench/proxy.ts [runs] [MiB]`: the managed network proxy
 * (`process/start.networkProxy`), execbox against the reference in the same
 * run. A command on each executor downloads N MiB from an origin on
 * 127.0.0.1 (`bench/proxy-origin.ts`, a process of its own) with curl through the process's HTTP proxy as a CONNECT tunnel
 * (`-p`), as a plain absolute-form GET the proxy forwards, and through its
 * SOCKS5 listener, against the same download made
 * directly; then 50 small plain-HTTP requests through the proxy against 50
 * direct ones (the latency the proxy adds per request). Runs alternate
 * between the executors, a fresh executor each, warmed up by one run first. Writes "## Managed network
 * proxy" into bench/results.md.
 */
import { join } from "node:path";
import { readFirstLine } from "../test/helpers/first-line.ts";
import { RawClient } from "../test/helpers/rpc-client.ts";
import { networkProxyLaunch } from "../test/helpers/network-proxy.ts";
import { percentile } from "./measure.ts";
import { type Row, sectionHead, table, writeResultsSection } from "./results-file.ts";
import { type ServerCommand, execboxCommand, referenceCommand, runBench, spawnTracked, startServer } from "./servers.ts";

const MiB = 1 << 20;
const runs = Number(process.argv[2] ?? 3);
const bytes = Number(process.argv[3] ?? 256) * MiB;
/** Small requests per latency sample set. */
const SMALL_REQUESTS = 50;
/** A download or a latency loop that takes longer is a failure, not a figure. */
const COMMAND_TIMEOUT_MS = 120_000;

const origin = spawnTracked([process.execPath, join(import.meta.dir, "proxy-origin.ts"), String(bytes)]);
const originPort = Number(await readFirstLine(origin.proc.stdout, 10_000));
const big = `http://127.0.0.1:${originPort}/big`;
const small = `http://127.0.0.1:${originPort}/small`;
/** `--noproxy ''`: the child's NO_PROXY names loopback (allowLocalBinding), which would send curl around the proxy. */
const CURL = "curl -sS --noproxy '' -o /dev/null";
const DOWNLOAD_FORMAT = "-w '%{size_download} %{time_total}\\n'";
const SCRIPTS = {
  connect: `${CURL} -p -x "$HTTP_PROXY" ${DOWNLOAD_FORMAT} ${big}`,
  plain: `${CURL} -x "$HTTP_PROXY" ${DOWNLOAD_FORMAT} ${big}`,
  socks5: `${CURL} --socks5-hostname "127.0.0.1:\${ALL_PROXY##*:}" ${DOWNLOAD_FORMAT} ${big}`,
  latency: `for i in $(seq ${SMALL_REQUESTS}); do ${CURL} -x "$HTTP_PROXY" -w '%{time_total}\\n' ${small}; done`,
};
type Kind = keyof typeof SCRIPTS;

/**
 * Runs `script` on a fresh executor of `cmd` under a managed proxy that
 * allows loopback, after the same script once as a warm-up in a process of
 * its own (its own proxies, on the same executor): a deployed executor is
 * long-running, so the figure is its steady state, not a fresh JIT's and
 * heap's first pass. Returns the measured run's stdout lines.
 */
async function viaProxy(cmd: ServerCommand, script: string): Promise<string[]> {
  const server = await startServer(cmd);
  try {
    const c = await RawClient.websocket(server.url);
    try {
      await c.initialize();
      await runProxied(c, cmd, "warm-up", script);
      return await runProxied(c, cmd, "measured", script);
    } finally {
      c.close();
    }
  } finally {
    await server.kill();
  }
}

async function runProxied(c: RawClient, cmd: ServerCommand, processId: string, script: string): Promise<string[]> {
  const r = await c.call("process/start", {
    processId,
    argv: ["/bin/sh", "-c", script],
    cwd: "file:///tmp",
    env: { PATH: "/usr/bin:/bin" },
    tty: false,
    networkProxy: networkProxyLaunch({ allowLocalBinding: true, domains: { "127.0.0.1": "allow" } }),
  });
  if (r.error) throw new Error(`${cmd.label}: process/start failed: ${JSON.stringify(r.error)}`);
  await c.processDone(processId, COMMAND_TIMEOUT_MS);
  const err = c.output(processId, "stderr").toString();
  if (err) throw new Error(`${cmd.label}: ${err.trim()}`);
  return c.output(processId, "stdout").toString().trim().split("\n");
}

/** The same command run here, without a proxy. */
async function direct(script: string): Promise<string[]> {
  const proc = Bun.spawn(["/bin/sh", "-c", script], { stdout: "pipe", stderr: "pipe", env: { PATH: "/usr/bin:/bin" } });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`direct: ${err}`);
  return out.trim().split("\n");
}

/** MiB/s of one download line (`size time`), checking every byte came. */
function mibPerSec(line: string): number {
  const [size, seconds] = line.split(" ").map(Number) as [number, number];
  if (size !== bytes) throw new Error(`downloaded ${size} of ${bytes} bytes`);
  return size / MiB / seconds;
}

type Side = { connect: number[]; plain: number[]; socks5: number[]; latencyMs: number[] };

await runBench("proxy", async () => {
  const cmds = [execboxCommand(false), referenceCommand()];
  const sides: Side[] = cmds.map(() => ({ connect: [], plain: [], socks5: [], latencyMs: [] }));
  const plain: Side = { connect: [], plain: [], socks5: [], latencyMs: [] };
  const directDownload = `curl -sS -o /dev/null ${DOWNLOAD_FORMAT} ${big}`;
  const directLatency = `for i in $(seq ${SMALL_REQUESTS}); do curl -sS -o /dev/null -w '%{time_total}\\n' ${small}; done`;
  for (let run = 0; run < runs; run++) {
    for (const kind of ["connect", "plain", "socks5"] as const satisfies Kind[]) {
      for (const [i, cmd] of cmds.entries()) {
        const speed = mibPerSec((await viaProxy(cmd, SCRIPTS[kind]))[0]!);
        sides[i]![kind].push(speed);
        console.error(`[proxy] ${kind} ${run + 1}/${runs} ${cmd.label}: ${speed.toFixed(0)} MiB/s`);
      }
      plain[kind].push(mibPerSec((await direct(directDownload))[0]!));
    }
    for (const [i, cmd] of cmds.entries()) sides[i]!.latencyMs.push(...(await viaProxy(cmd, SCRIPTS.latency)).map((s) => Number(s) * 1000));
    plain.latencyMs.push(...(await direct(directLatency)).map((s) => Number(s) * 1000));
  }
  const med = (v: number[]) => percentile(v, 50);
  const [exec, ref] = sides as [Side, Side];
  const rows: Row[] = [
    { metric: `HTTP CONNECT tunnel, ${bytes / MiB} MiB (MiB/s, median)`, exec: med(exec.connect), ref: med(ref.connect), digits: 0, better: "higher", target: { limit: med(ref.connect), text: "≥ ref" } },
    { metric: `plain HTTP GET (absolute-form), ${bytes / MiB} MiB (MiB/s, median)`, exec: med(exec.plain), ref: med(ref.plain), digits: 0, better: "higher", target: { limit: med(ref.plain), text: "≥ ref" } },
    { metric: `SOCKS5, ${bytes / MiB} MiB (MiB/s, median)`, exec: med(exec.socks5), ref: med(ref.socks5), digits: 0, better: "higher", target: { limit: med(ref.socks5), text: "≥ ref" } },
    { metric: "plain HTTP request through the proxy, p50 (ms)", exec: med(exec.latencyMs), ref: med(ref.latencyMs), digits: 2, better: "lower" },
    { metric: "the same, p99 (ms)", exec: percentile(exec.latencyMs, 99), ref: percentile(ref.latencyMs, 99), digits: 2, better: "lower" },
  ];
  const how =
    `- \`bun bench/proxy.ts ${runs} ${bytes / MiB}\`: ${cmds[0]!.label} vs ${cmds[1]!.label}; a command on the executor downloads ${bytes / MiB} MiB from an origin on 127.0.0.1 (\`bench/proxy-origin.ts\`, its own process) with curl through its managed proxy (allowLocalBinding, domains 127.0.0.1 allowed), as a CONNECT tunnel (\`curl -p\`), as a plain GET the proxy forwards (\`curl -x\`) and through SOCKS5, ${runs} run(s) each, alternating, a fresh executor each, each measured run after one warm-up run of the same command in a process of its own on that executor; ${SMALL_REQUESTS} small plain-HTTP requests per run for latency. ` +
    `Direct (no proxy, same machine): CONNECT-sized download ${med(plain.connect).toFixed(0)} MiB/s, small request p50 ${med(plain.latencyMs).toFixed(2)} ms: the proxy adds ${(med(exec.latencyMs) - med(plain.latencyMs)).toFixed(2)} ms on execbox, ${(med(ref.latencyMs) - med(plain.latencyMs)).toFixed(2)} ms on the reference.`;
  const text = [sectionHead("Managed network proxy", how), table(rows), "", `| Runs (MiB/s) | execbox | reference |`, "|---|---|---|", `| CONNECT | ${exec.connect.map((v) => v.toFixed(0)).join(", ")} | ${ref.connect.map((v) => v.toFixed(0)).join(", ")} |`, `| plain GET | ${exec.plain.map((v) => v.toFixed(0)).join(", ")} | ${ref.plain.map((v) => v.toFixed(0)).join(", ")} |`, `| SOCKS5 | ${exec.socks5.map((v) => v.toFixed(0)).join(", ")} | ${ref.socks5.map((v) => v.toFixed(0)).join(", ")} |`, ""].join("\n");
  console.log(text);
  writeResultsSection(text);
  await origin.kill();
});
