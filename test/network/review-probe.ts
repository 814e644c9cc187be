/**
 * How review domains were found (not a test): plays cases against the
 * reference or execbox with a WebSocket client that answers the executor's
 * `network/policyRequest`s, printing each request, each
 * `network/policyDecision` and the lines of curl's output that matter, with
 * timestamps, ports and client addresses masked, for diffing:
 *
 *   bun test/network/review-probe.ts ref|ex|0.169.0 test/network/probe-cases/review-1.json (or review-2.json)
 *
 * A case: [title, curl arguments, proxy fields, process/start.networkProxy
 * fields, answer]. `URL(host)` in the arguments is a local origin on that
 * name; the executor runs in a private mount namespace (root: `unshare -m`)
 * whose /etc/hosts maps review.test and other.test to 127.0.0.1, so nothing
 * leaves this machine. An answer is {"result": …}, {"error": …}, {"text":
 * "raw frame"}, {"late": …} (answered after the decision) or "silent".
 * `"unsolicited"` as a case's curl arguments sends a response to a request
 * the executor never made and reports whether the connection survives.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { startServer } from "../helpers/server.ts";
import { REFERENCE_BIN, referenceBinPath } from "../helpers/reference-bin.ts";
import { networkProxyLaunch } from "../helpers/network-proxy.ts";

type Answer = { result?: unknown; error?: unknown; text?: string; late?: unknown } | "silent";
type Case = [string, string, Record<string, unknown>, Record<string, unknown>, Answer];

const which = process.argv[2] ?? "ref";
const cases: Case[] = JSON.parse(readFileSync(process.argv[3]!, "utf8"));
const http = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (req) => new Response(`hello ${req.method} ${new URL(req.url).pathname} ${req.headers.get("host")}\n`) });
const dir = mkdtempSync("/tmp/review-probe-");
writeFileSync(`${dir}/hosts`, "127.0.0.1 localhost review.test other.test\n");
const hostsNs = ["unshare", "-m", "sh", "-c", `mount --bind ${dir}/hosts /etc/hosts && exec "$@"`, "sh"];
const bin = which === "ref" ? [REFERENCE_BIN, "exec-server"] : which === "ex" ? [process.execPath, `${import.meta.dir}/../../src/cli/main.ts`] : [referenceBinPath(which), "exec-server"];
const server = await startServer([], { command: [...hostsNs, ...bin] });
const ws = new WebSocket(server.url);
await new Promise((r) => (ws.onopen = r));

const mask = (s: string) => s.replaceAll(String(http.port), "PORT").replace(/"timestamp":"[^"]*"/g, '"timestamp":"T"').replace(/"client":"127\.0\.0\.1:\d+"/g, '"client":"C"');
let nextId = 1;
const replies = new Map<number, (m: any) => void>();
const closed = new Map<string, () => void>();
const lateAnswers: (() => void)[] = [];
let answer: Answer = "silent";
const log: string[] = [];
/** The process's output, printed whole once it closed (chunk boundaries differ between executors). */
const output: string[] = [];
const outputLines = () => mask(output.join("").replace(/\r/g, "").split("\n").filter((l) => /HTTP\/|hello|rc=|x-proxy-error|reason/.test(l)).join(" | "));
let dropped = false;
const droppedNow = new Promise<void>((r) => (ws.onclose = () => ((dropped = true), r())));
ws.onmessage = (e) => {
  const m = JSON.parse(String(e.data));
  if (m.method && m.id !== undefined) {
    log.push(`REQ ${mask(JSON.stringify(m))}`);
    const a = answer;
    if (a === "silent") return;
    if (a.text !== undefined) ws.send(a.text.replaceAll("ID", String(m.id)));
    else if (a.late !== undefined) lateAnswers.push(() => ws.send(JSON.stringify({ id: m.id, result: a.late })));
    else ws.send(JSON.stringify(a.error !== undefined ? { id: m.id, error: a.error } : { id: m.id, result: a.result }));
    return;
  }
  if (m.method === "network/policyDecision") log.push(`NOTIFY ${mask(JSON.stringify(m.params))}`);
  if (m.method === "process/output") output.push(Buffer.from(m.params.chunk, "base64").toString());
  if (m.method === "process/closed") closed.get(m.params.processId)?.();
  if (m.id !== undefined && replies.has(m.id)) {
    replies.get(m.id)!(m);
    replies.delete(m.id);
  }
};
const call = (method: string, params: unknown) =>
  new Promise<any>((resolve) => {
    const id = nextId++;
    replies.set(id, resolve);
    ws.send(JSON.stringify({ id, method, params }));
  });
await call("initialize", { clientName: "probe" });
ws.send(JSON.stringify({ method: "initialized" }));

let n = 0;
for (const [title, args, proxyExtra, top, a] of cases) {
  answer = a;
  log.length = 0;
  output.length = 0;
  if (args === "unsolicited") {
    ws.send(JSON.stringify(a === "silent" ? {} : a));
    const alive = await Promise.race([call("environment/info", {}).then(() => "connection kept"), Bun.sleep(2000).then(() => "connection dropped")]);
    console.log(`### ${title}\n${dropped ? "connection dropped" : alive}`);
    if (dropped) break;
    continue;
  }
  const processId = `p${++n}`;
  const done = new Promise<void>((r) => closed.set(processId, r));
  const url = args.replace(/URL\(([^)]+)\)/g, (_, h) => `http://${h}:${http.port}/a`);
  const started = Date.now();
  const r = await call("process/start", { processId, argv: ["sh", "-c", `curl -s -i -m 20 ${url}; echo rc=$?`], cwd: `file://${dir}`, env: { PATH: "/usr/bin:/bin" }, tty: false, networkProxy: { ...networkProxyLaunch(proxyExtra), ...top } });
  if (r.error) {
    console.log(`### ${title}\nERR ${JSON.stringify(r.error)}`);
    continue;
  }
  await Promise.race([done, droppedNow]);
  if (dropped) {
    console.log(`### ${title}\n${log.join("\n")}\nconnection dropped`);
    break;
  }
  for (const late of lateAnswers.splice(0)) late();
  const secs = Math.round((Date.now() - started) / 1000);
  console.log(`### ${title}${secs >= 2 ? ` (~${secs} s)` : ""}\n${[...log, `OUT ${outputLines()}`].join("\n")}`);
}
ws.close();
await server.stop("SIGKILL");
http.stop(true);
