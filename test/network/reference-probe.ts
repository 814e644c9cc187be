/**
 * How the managed proxy's behaviour was found (not a test): plays a list of
 * shell commands, each with a networkProxy (and optional process/start
 * extras), against the reference or execbox, printing each command's output
 * and its network/policyDecision notifications, for diffing:
 *
 *   bun test/network/reference-probe.ts ref|ex "$(cat test/network/probe-cases/requests-1.json)"
 *
 * Runs as root: the executor gets a private mount namespace whose /etc/hosts
 * names public.test and private.test (the host's file is untouched). Cases
 * that connect to those names leave this machine: the committed cases only
 * connect to 127.0.0.1 (other names are refused by the proxy itself).
 * `PORT` in a command is a local origin's port; `RAW 'bytes'` sends raw bytes
 * to the proxy. Sandboxed cases need bwrap (the reference's own is used).
 */
import { RawClient } from "../helpers/rpc-client.ts";
import { startServer } from "../helpers/server.ts";
import { REFERENCE_BIN } from "../helpers/reference-bin.ts";
import { networkProxyLaunch } from "../helpers/network-proxy.ts";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";

const http = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (req) => new Response(`hello ${req.method} ${new URL(req.url).pathname} ${req.headers.get("host")}\n`) });
const dir = mkdtempSync("/tmp/netprobe-");
const hostsFile = `${dir}/hosts`;
writeFileSync(hostsFile, "127.0.0.1 localhost\n93.184.216.34 public.test www.public.test\n10.1.2.3 private.test\n");
const raw = `${dir}/raw.sh`;
writeFileSync(raw, '#!/bin/bash\nH=${HTTP_PROXY#http://}\nexec 3<>/dev/tcp/127.0.0.1/${H#*:}\nprintf \'%b\' "$1" >&3\ntimeout 3 cat <&3\necho rc=$?\n');
chmodSync(raw, 0o755);
const which = process.argv[2] ?? "ref";
// A private mount namespace whose /etc/hosts names public and private test hosts (the host's file is untouched).
const hostsNs = ["unshare", "-m", "sh", "-c", `mount --bind ${hostsFile} /etc/hosts && exec "$@"`, "sh"];
// The reference's sandbox needs its bundled bwrap (Debian's lacks --argv0).
const bundled = `${REFERENCE_BIN.replace(/\/bin\/codex$/, "")}/codex-resources`;
const env = { ...process.env, PATH: `${bundled}:${process.env.PATH}` } as Record<string, string>;
const server = await startServer([], { env, command: [...hostsNs, ...(which === "ref" ? [REFERENCE_BIN, "exec-server"] : [process.execPath, `${import.meta.dir}/../../src/cli/main.ts`])] });
const c = await RawClient.websocket(server.url);
await c.initialize();
let n = 0;
const sandbox = (network: string) => ({
  permissions: {
    type: "managed",
    file_system: { type: "restricted", entries: [{ path: { type: "special", value: { kind: "root" } }, access: "read" }, { path: { type: "special", value: { kind: "project_roots" } }, access: "write" }] },
    network,
  },
  cwd: `file://${dir}`,
  workspaceRoots: [`file://${dir}`],
  windowsSandboxLevel: "disabled",
});
async function run(script: string, proxyExtra: Record<string, unknown>, extraIn: Record<string, unknown> = {}) {
  const extra: Record<string, unknown> = { ...extraIn };
  if (typeof extra.sandbox === "string") extra.sandbox = sandbox(extra.sandbox);
  const processId = `p${++n}`;
  const r = await c.call("process/start", { processId, argv: ["sh", "-c", script], cwd: `file://${dir}`, env: { PATH: "/usr/bin:/bin" }, tty: false, networkProxy: networkProxyLaunch(proxyExtra), ...extra });
  if (r.error) { console.log("ERR", JSON.stringify(r.error)); return; }
  await c.processDone(processId);
  console.log(`--- ${script}\n${c.output(processId).toString()}`);
  for (const f of c.frames.filter((f: any) => f.method === "network/policyDecision" && f.params.processId === processId)) console.log("NOTIFY", JSON.stringify(f.params));
}
const port = http.port;
const cases = JSON.parse(process.argv[3] ?? "[]");
for (const [script, extra, top] of cases) await run(script.replaceAll("PORT", String(port)).replaceAll("RAW ", `${raw} `), extra, top ?? {});
c.close();
await server.stop("SIGKILL");
http.stop(true);
