/**
 * How custom credential providers' behaviour was found (not a test): plays
 * cases against the reference or execbox with `credentialMasking: true` and
 * prints each command's output (or the start's error), for diffing:
 *
 *   bun test/network/credential-provider-probe.ts ref|ex "$(cat test/network/probe-cases/providers-1.json)"
 *
 * providers-1: auth schemes, paths, plain HTTP to a loopback prefix (without
 * allowLocalBinding; execbox's policy refuses that request, see README);
 * providers-2: providers the reference drops (their value stays real, the
 * built-in GITHUB_TOKEN is still masked; execbox refuses each);
 * providers-3: `url_prefix_from_env` (the child's value changes nothing);
 * providers-4: the built-in GH_HOST provider on a port of its own, as a bare
 * host and as `host:port` (both brokered on either side), and a CONNECT to a
 * covered host whose handshake asks for another name (SNI): the leaf is the
 * CONNECT's host's on both, so curl refuses it.
 *
 * A case is `[script, proxyExtra, env]`: `env` is the child's `env` overlay
 * (the real credentials; `@HTTPS@` and `@HTTP@` filled there too), `proxyExtra` goes into `networkProxy.proxy`
 * (`credentialProviders` among it). `@HTTPS@` and `@HTTP@` in a script or a
 * provider are the ports of two origins on 127.0.0.1 that answer with the
 * request line and its credential headers; `vendor.test` names 127.0.0.1 in
 * the executor's private mount namespace (the host's /etc/hosts is
 * untouched). The HTTPS origin's CA is trusted by the executor
 * (NODE_EXTRA_CA_CERTS) and its file is `$ORIGIN_CA` in the child.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createServer } from "node:tls";
import { networkProxyLaunch } from "../helpers/network-proxy.ts";
import { REFERENCE_BIN } from "../helpers/reference-bin.ts";
import { RawClient } from "../helpers/rpc-client.ts";
import { startServer } from "../helpers/server.ts";

const dir = mkdtempSync("/tmp/provprobe-");
// The origin's CA has a subject of its own: the reference's bundle holds NODE_EXTRA_CA_CERTS too, and
// two CAs named "network_proxy MITM CA" there break verification of its leaves.
const sh = (cmd: string) => Bun.spawnSync(["sh", "-c", cmd], { cwd: dir, stderr: "inherit" });
sh(`openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem -days 2 -subj "/CN=probe origin CA" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout leaf.key -out leaf.csr -subj "/CN=vendor.test" 2>/dev/null
printf 'subjectAltName=DNS:vendor.test,DNS:other.test,IP:127.0.0.1' > ext
openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out leaf.pem -days 2 -extfile ext 2>/dev/null`);
const ca = { files: { caPath: join(dir, "ca.pem") } };
const echo = (head: string) => {
  const lines = head.split("\r\n");
  const keep = lines.slice(1).filter((l) => /^(authorization|x-api-key|x-token|host):/i.test(l));
  const body = `${lines[0]} | ${keep.join(" | ")}\n`;
  return `HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`;
};
const onSocket = (socket: import("node:net").Socket) => {
  let head = "";
  socket.on("error", () => {});
  socket.on("data", (d) => {
    head += d.toString("latin1");
    const end = head.indexOf("\r\n\r\n");
    if (end >= 0) socket.end(echo(head.slice(0, end)));
  });
};
const tls = createServer({ key: readFileSync(join(dir, "leaf.key")), cert: readFileSync(join(dir, "leaf.pem")) }, onSocket);
await new Promise<void>((r) => tls.listen(0, "127.0.0.1", r));
const plain = (await import("node:net")).createServer(onSocket);
await new Promise<void>((r) => plain.listen(0, "127.0.0.1", r));
const HTTPS = String((tls.address() as { port: number }).port);
const HTTP = String((plain.address() as { port: number }).port);

writeFileSync(join(dir, "hosts"), "127.0.0.1 localhost vendor.test other.test\n");
mkdirSync(join(dir, "codex"));
const hostsNs = ["unshare", "-m", "sh", "-c", `mount --bind ${dir}/hosts /etc/hosts && exec "$@"`, "sh"];
const which = process.argv[2] ?? "ref";
const env = { PATH: "/usr/local/bin:/usr/bin:/bin", HOME: dir, CODEX_HOME: join(dir, "codex"), NODE_EXTRA_CA_CERTS: ca.files.caPath };
const command = which === "ref" ? [REFERENCE_BIN, "exec-server"] : [process.execPath, `${import.meta.dir}/../../src/cli/main.ts`];
const server = await startServer([], { env, command: [...hostsNs, ...command] });
const c = await RawClient.websocket(server.url);
await c.initialize();
const fill = (text: string) => text.replaceAll("@HTTPS@", HTTPS).replaceAll("@HTTP@", HTTP);
const cases = JSON.parse(process.argv[3] ?? "[]") as [string, Record<string, unknown>, Record<string, string>?][];
let n = 0;
for (const [script, proxyExtra, childEnv] of cases) {
  const processId = `p${++n}`;
  const proxy = JSON.parse(fill(JSON.stringify({ credentialMasking: true, allowLocalBinding: true, domains: { "vendor.test": "allow", "other.test": "allow", "127.0.0.1": "allow" }, ...proxyExtra })));
  const r = await c.call("process/start", { processId, argv: ["bash", "-c", fill(script)], cwd: `file://${dir}`, env: { PATH: env.PATH, ORIGIN_CA: ca.files.caPath, ...JSON.parse(fill(JSON.stringify(childEnv ?? {}))) }, tty: false, networkProxy: networkProxyLaunch(proxy) }, 60_000);
  console.log(`--- ${fill(script)}`);
  if (r.error) {
    console.log("ERR", JSON.stringify(r.error));
    continue;
  }
  await c.processDone(processId, 20_000);
  console.log(c.output(processId).toString().replaceAll(HTTPS, "@HTTPS@").replaceAll(HTTP, "@HTTP@"));
}
c.close();
await server.stop("SIGKILL");
if (process.env.PROBE_STDERR) console.log("STDERR", server.stderr());
tls.close();
plain.close();
