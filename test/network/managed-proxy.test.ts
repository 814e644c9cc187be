/**
 * networkProxyLaunch against a real executor (EXECBOX_BIN when set): the
 * child's proxy variables, checked forwarding through the HTTP proxy
 * (absolute form, keep-alive, CONNECT) and SOCKS5, the reference's refusals
 * and one `network/policyDecision` per decision, proxies gone with the
 * process, and the parts execbox cannot carry out refused before anything
 * runs. Every destination is 127.0.0.1 (names that are refused are never
 * connected to).
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { connect } from "node:net";
import { MAX_PROXY_CONNECTIONS } from "../../src/network/proxy-listener.ts";
import { networkProxyLaunch } from "../helpers/network-proxy.ts";
import { waitUntil } from "../helpers/wait.ts";
import { sharedExecutor, tempDir } from "../helpers/server.ts";

setDefaultTimeout(30_000);

const executor = sharedExecutor();
const dir = tempDir();
let origin: ReturnType<typeof Bun.serve>;
beforeAll(() => {
  origin = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (req) => new Response(`hello ${req.method} ${new URL(req.url).pathname} ${req.headers.get("x-keep") ?? "-"} ${req.headers.get("proxy-authorization") ?? "-"}\n`) });
});
afterAll(() => {
  origin.stop(true);
  dir[Symbol.dispose]();
});

/** A read-only root, writable project, network "enabled": the Codex CLI's sandbox for a managed-proxy command. */
const SANDBOX = {
  permissions: {
    type: "managed",
    file_system: { type: "restricted", entries: [{ path: { type: "special", value: { kind: "root" } }, access: "read" }, { path: { type: "special", value: { kind: "project_roots" } }, access: "write" }] },
    network: "enabled",
  },
  cwd: dir.uri,
  workspaceRoots: [dir.uri],
  windowsSandboxLevel: "disabled",
};

/** The origin on 127.0.0.1 allowlisted, as a devbox service would be. */
const LOCAL_ALLOWED = { allowLocalBinding: true, domains: { "127.0.0.1": "allow", "blocked.test": "deny" } };
let n = 0;

async function run(script: string, proxy: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  const processId = `np${++n}`;
  const c = executor.client;
  const start = await c.call("process/start", { processId, argv: ["bash", "-c", script], cwd: dir.uri, env: { PATH: "/usr/bin:/bin", ORIGIN: `127.0.0.1:${origin.port}` }, tty: false, networkProxy: networkProxyLaunch(proxy), ...extra });
  if (start.error) return { error: start.error, out: "", decisions: [] as Record<string, unknown>[] };
  await c.processDone(processId);
  const decisions = c.frames
    .filter((f) => f.method === "network/policyDecision" && f.params.processId === processId)
    .map((f) => {
      const { timestamp, client, ...rest } = f.params;
      expect(timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(client).toMatch(/^127\.0\.0\.1:\d+$/);
      return rest;
    });
  return { error: undefined, out: c.output(processId, "stdout").toString().replaceAll(String(origin.port), "PORT").replace(/^date: .*\r\n/gim, ""), decisions };
}

const decision = (d: Record<string, unknown>) => ({ scope: "domain", decision: "allow", source: "baseline_policy", reason: "allow", protocol: "http", host: "127.0.0.1", port: origin.port, method: "GET", policyOverride: false, processId: `np${n}`, ...d });

test("the child's variables name its own proxies; NO_PROXY lists local ranges only with allowLocalBinding", async () => {
  const r = await run("env | sort | grep -i -e proxy= -e ^codex_network -e ^node_use -e ^electron | sed -E 's/:[0-9]+$/:P/'", { allowLocalBinding: false });
  const http = "http://127.0.0.1:P";
  const socks = "socks5h://127.0.0.1:P";
  expect(r.out.split("\n").filter(Boolean)).toEqual([
    `ALL_PROXY=${socks}`, `BUNDLE_HTTPS_PROXY=${http}`, `BUNDLE_HTTP_PROXY=${http}`, "BUNDLE_NO_PROXY=", "CODEX_NETWORK_ALLOW_LOCAL_BINDING=0",
    "CODEX_NETWORK_PROXY_ACTIVE=1", `DOCKER_HTTPS_PROXY=${http}`, `DOCKER_HTTP_PROXY=${http}`, "ELECTRON_GET_USE_PROXY=true", `FTP_PROXY=${socks}`,
    `HTTPS_PROXY=${http}`, `HTTP_PROXY=${http}`, "NODE_USE_ENV_PROXY=1", "NO_PROXY=", `NPM_CONFIG_HTTPS_PROXY=${http}`, `NPM_CONFIG_HTTP_PROXY=${http}`,
    "NPM_CONFIG_NOPROXY=", `NPM_CONFIG_PROXY=${http}`, `PIP_PROXY=${http}`, `WSS_PROXY=${http}`, `WS_PROXY=${http}`, `YARN_HTTPS_PROXY=${http}`,
    `YARN_HTTP_PROXY=${http}`, `all_proxy=${socks}`, `ftp_proxy=${socks}`, `http_proxy=${http}`, `https_proxy=${http}`, "no_proxy=",
    `npm_config_http_proxy=${http}`, `npm_config_https_proxy=${http}`, "npm_config_noproxy=", `npm_config_proxy=${http}`, `ws_proxy=${http}`, `wss_proxy=${http}`,
  ]);
  const local = await run("echo $NO_PROXY $CODEX_NETWORK_ALLOW_LOCAL_BINDING; echo ${ALL_PROXY%:*}", { allowLocalBinding: true, enableSocks5: false });
  expect(local.out).toBe("localhost,127.0.0.1,::1,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16 1\nhttp://127.0.0.1\n");
});

test("allowed: forwarded in origin form with proxy-only headers dropped, one decision reported", async () => {
  const r = await run(`curl -s --noproxy '' -H 'Proxy-Authorization: Basic eDp5' -H 'X-Keep: 1' http://$ORIGIN/a`, LOCAL_ALLOWED);
  expect(r.out).toBe("hello GET /a 1 -\n");
  expect(r.decisions).toEqual([decision({})]);
});

test("keep-alive: requests on one proxy connection are each checked and answered in order; the last one's close ends it", async () => {
  const raw = `GET http://$ORIGIN/k1 HTTP/1.1\\r\\nHost: $ORIGIN\\r\\n\\r\\nGET http://blocked.test/ HTTP/1.1\\r\\nHost: blocked.test\\r\\n\\r\\nGET http://$ORIGIN/k2 HTTP/1.1\\r\\nHost: $ORIGIN\\r\\nConnection: close\\r\\n\\r\\n`;
  const script = `H=\${HTTP_PROXY#http://}; exec 3<>/dev/tcp/127.0.0.1/\${H#*:}; printf "${raw}" >&3; timeout 10 cat <&3 | grep -a -e '^hello' -e '^HTTP/' -e '"reason"'; true`;
  const r = await run(script, LOCAL_ALLOWED);
  expect(r.out.split("\r\n").join("\n")).toBe(
    [
      "HTTP/1.1 200 OK",
      "hello GET /k1 - -",
      "HTTP/1.1 403 Forbidden",
      '{"status":"blocked","host":"blocked.test","reason":"denied","decision":"deny","source":"baseline_policy","protocol":"http","port":80,"message":"Domain denied by the sandbox policy."}HTTP/1.1 200 OK',
      "hello GET /k2 - -",
      "",
    ].join("\n"),
  );
  expect(r.decisions.map((d) => [d.decision, d.host])).toEqual([["allow", "127.0.0.1"], ["deny", "blocked.test"], ["allow", "127.0.0.1"]]);
});

test("refusals: the reference's 403 answers and decisions, for requests and CONNECT", async () => {
  const r = await run(`curl -s -i --noproxy '' http://blocked.test/x; echo; curl -s -i --noproxy '' http://localhost:1/; echo; curl -s -i --noproxy '' -p http://blocked.test/ -o /dev/null; curl -s -i --noproxy '' http://$ORIGIN/`, { domains: { "blocked.test": "deny" } });
  expect(r.out).toBe(
    [
      "HTTP/1.1 403 Forbidden\r\ncontent-type: application/json\r\nx-proxy-error: blocked-by-denylist\r\ncontent-length: 182\r\n\r\n" +
        '{"status":"blocked","host":"blocked.test","reason":"denied","decision":"deny","source":"baseline_policy","protocol":"http","port":80,"message":"Domain denied by the sandbox policy."}',
      "HTTP/1.1 403 Forbidden\r\ncontent-type: application/json\r\nx-proxy-error: blocked-by-allowlist\r\ncontent-length: 207\r\n\r\n" +
        '{"status":"blocked","host":"localhost","reason":"not_allowed_local","decision":"deny","source":"baseline_policy","protocol":"http","port":1,"message":"Sandbox policy blocks local/private network addresses."}',
      "HTTP/1.1 403 Forbidden\r\ncontent-type: application/json\r\nx-proxy-error: blocked-by-allowlist\r\ncontent-length: 211\r\n\r\n" +
        '{"status":"blocked","host":"127.0.0.1","reason":"not_allowed_local","decision":"deny","source":"baseline_policy","protocol":"http","port":PORT,"message":"Sandbox policy blocks local/private network addresses."}',
    ].join("\n"),
  );
  expect(r.decisions.map((d) => [d.protocol, d.host, d.reason])).toEqual([
    ["http", "blocked.test", "denied"],
    ["http", "localhost", "not_allowed_local"],
    ["https_connect", "blocked.test", "denied"],
    ["http", "127.0.0.1", "not_allowed_local"],
  ]);
});

test("CONNECT tunnels to an allowed destination; limited mode lets reads through and refuses the rest", async () => {
  const full = await run(`curl -s --noproxy '' -p http://$ORIGIN/t`, LOCAL_ALLOWED);
  expect(full.out).toBe("hello GET /t - -\n");
  expect(full.decisions).toEqual([decision({ protocol: "https_connect", method: "CONNECT" })]);
  const limited = await run(
    `curl -s --noproxy '' http://$ORIGIN/r; curl -s --noproxy '' -X POST http://$ORIGIN/w -o /dev/null -w '%{http_code}\\n'; curl -s --noproxy '' -p http://$ORIGIN/t; echo rc=$?`,
    { ...LOCAL_ALLOWED, mode: "limited" },
  );
  expect(limited.out).toBe("hello GET /r - -\n403\nrc=56\n");
  const guard = { scope: "non_domain", decision: "deny", source: "mode_guard" };
  expect(limited.decisions).toEqual([
    decision({}),
    decision({ method: "POST" }),
    decision({ method: "POST", ...guard, reason: "method_not_allowed" }),
    decision({ protocol: "https_connect", method: "CONNECT" }),
    decision({ protocol: "https_connect", method: "CONNECT", ...guard, reason: "mitm_required" }),
  ]);
});

test("SOCKS5: an allowed destination is piped, a refused one gets reply 2 (curl 97)", async () => {
  const r = await run(`curl -s --noproxy '' --socks5-hostname \${ALL_PROXY#socks5h://} http://$ORIGIN/s; curl -s --noproxy '' --socks5-hostname \${ALL_PROXY#socks5h://} http://blocked.test/; echo rc=$?`, LOCAL_ALLOWED);
  expect(r.out).toBe("hello GET /s - -\nrc=97\n");
  expect(r.decisions).toEqual([decision({ protocol: "socks5_tcp", method: undefined }), decision({ protocol: "socks5_tcp", method: undefined, host: "blocked.test", port: 80, decision: "deny", reason: "denied" })].map((d) => { const { method, ...rest } = d; return rest; }));
});

test("the proxies end with their process: a port the child saw is closed once it is closed", async () => {
  const r = await run("echo ${HTTP_PROXY##*:} ${ALL_PROXY##*:}", LOCAL_ALLOWED);
  const ports = r.out.trim().split(" ").map(Number);
  for (const port of ports) {
    const refused = await new Promise<boolean>((resolve) => {
      const s = connect({ host: "127.0.0.1", port }).once("connect", () => (s.destroy(), resolve(false))).once("error", () => resolve(true));
    });
    expect([port, refused]).toEqual([port, true]);
  }
});

test("what execbox cannot carry out is refused before anything runs; a disabled proxy as the reference refuses it", async () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ enabled: false }, "invalid network proxy config: executor-local network proxy launch requires an enabled proxy"],
    [{ enableSocks5Udp: true }, "sandbox intent cannot be enforced on this executor: networkProxy enableSocks5Udp (SOCKS5 UDP associate) is not implemented by execbox; the command was not started"],
  ];
  for (const [proxy, message] of cases) {
    const r = await run(`touch ${dir.path}/ran`, proxy);
    expect(r.error).toEqual({ code: -32602, message });
  }
  expect(await Bun.file(`${dir.path}/ran`).exists()).toBe(false);
});

// The Codex CLI sends enableSocks5Udp: true unless the profile says otherwise, and always with a sandbox and
// enforceManagedNetwork. There the child's namespace reaches only the bridged TCP ports: under the reference
// too a UDP ASSOCIATE succeeds but no datagram gets out (probed: the relay never answers). execbox takes the
// launch and answers UDP ASSOCIATE with 0x07 (command not supported); without the namespace it stays refused.
test("sandboxed (enforceManagedNetwork) with enableSocks5Udp: the command runs, and UDP ASSOCIATE gets 0x07", async () => {
  const script = `exec 3<>/dev/tcp/127.0.0.1/\${ALL_PROXY##*:}; printf '\\x05\\x01\\x00\\x05\\x03\\x00\\x01\\x00\\x00\\x00\\x00\\x00\\x00' >&3; timeout 5 od -An -tx1 <&3`;
  const r = await run(script, { ...LOCAL_ALLOWED, enableSocks5Udp: true }, { sandbox: SANDBOX, enforceManagedNetwork: true, managedNetwork: null });
  expect(r.error).toBeUndefined();
  expect(r.out.trim()).toBe("05 00 05 07 00 01 00 00 00 00 00 00");
  expect(r.decisions).toEqual([]);
  // A sandbox without enforceManagedNetwork leaves the child on the host's network: still refused.
  const open = await run(`touch ${dir.path}/ran-udp`, { enableSocks5Udp: true }, { sandbox: SANDBOX });
  expect(open.error).toEqual({ code: -32602, message: "sandbox intent cannot be enforced on this executor: networkProxy enableSocks5Udp (SOCKS5 UDP associate) is not implemented by execbox; the command was not started" });
  expect(await Bun.file(`${dir.path}/ran-udp`).exists()).toBe(false);
});

test("sandboxed (enforceManagedNetwork): the child reaches its proxies through the bridge and nothing else", async () => {
  const script = `curl -s --noproxy '' http://$ORIGIN/via-http; curl -s --noproxy '' --socks5-hostname \${ALL_PROXY#socks5h://} http://$ORIGIN/via-socks; curl -s --noproxy '*' http://$ORIGIN/direct; echo direct-rc=$?`;
  const r = await run(script, LOCAL_ALLOWED, { sandbox: SANDBOX, enforceManagedNetwork: true, managedNetwork: null });
  expect(r.error).toBeUndefined();
  expect(r.out).toBe("hello GET /via-http - -\nhello GET /via-socks - -\ndirect-rc=7\n");
  expect(r.decisions.map((d) => [d.protocol, d.decision])).toEqual([["http", "allow"], ["socks5_tcp", "allow"]]);
});

test(`each proxy holds at most ${MAX_PROXY_CONNECTIONS} connections: one more is closed at once, and a freed slot is usable again`, async () => {
  const script = `H=\${HTTP_PROXY#http://}; S=\${ALL_PROXY#socks5h://}; echo \${H#*:} \${S#*:}; read x`;
  const processId = `np${++n}`;
  const c = executor.client;
  await c.call("process/start", { processId, argv: ["bash", "-c", script], cwd: dir.uri, env: { PATH: "/usr/bin:/bin" }, tty: false, pipeStdin: true, networkProxy: networkProxyLaunch(LOCAL_ALLOWED) });
  await waitUntil(() => c.output(processId, "stdout").toString().includes("\n"), 10_000, "the ports");
  const ports = c.output(processId, "stdout").toString().trim().split(" ").map(Number);
  const [httpPort, socksPort] = ports as [number, number];
  // What each listener answers a live client: a SOCKS5 method choice, or an HTTP answer.
  const probes: [number, Buffer, string][] = [
    [socksPort, Buffer.from([5, 1, 0]), "\x05\x00"],
    [httpPort, Buffer.from("GET http://blocked.test/ HTTP/1.1\r\nHost: blocked.test\r\n\r\n"), "HTTP/1.1 403 Forbidden"],
  ];
  for (const [port, hello, answer] of probes) {
    // One after another, each served (so the listener has counted it) before the next arrives.
    const held: import("node:net").Socket[] = [];
    const answers = new Set<string>();
    for (let i = 0; i < MAX_PROXY_CONNECTIONS; i++) {
      const s = await openSocket(port);
      held.push(s);
      answers.add(await firstAnswer(s, hello, answer.length));
    }
    expect([...answers]).toEqual([answer]);
    expect([port, await firstAnswer(connect({ host: "127.0.0.1", port }), hello, answer.length)]).toEqual([port, "closed"]);
    held.pop()!.destroy();
    // Once the listener has seen that close, a new client is served again.
    let served = "closed";
    const deadline = Date.now() + 5_000;
    while (served === "closed" && Date.now() < deadline) served = await firstAnswer(connect({ host: "127.0.0.1", port }), hello, answer.length);
    expect([port, served]).toEqual([port, answer]);
    for (const s of held) s.destroy();
  }
  await c.call("process/write", { processId, chunk: Buffer.from("\n").toString("base64"), writeId: "w1" });
  await c.processDone(processId);
});

function openSocket(port: number): Promise<import("node:net").Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: "127.0.0.1", port });
    s.once("connect", () => resolve(s)).once("error", reject);
  });
}

/** Sends `hello` and returns the first `n` bytes of the answer (latin1), or "closed" if the peer closes (or resets) first. */
function firstAnswer(s: import("node:net").Socket, hello: Buffer, n: number): Promise<string> {
  return new Promise((resolve) => {
    let got = Buffer.alloc(0);
    s.on("error", () => {});
    s.on("data", (d: Buffer) => {
      got = Buffer.concat([got, d]);
      if (got.length >= n) resolve(got.subarray(0, n).toString("latin1"));
    });
    s.once("close", () => resolve("closed"));
    s.write(hello);
  });
}

test("escape: a sandboxed child cannot reach the executor's own listener through its proxy, even with 127.0.0.1 allowlisted and allowLocalBinding", async () => {
  const own = new URL(executor.server.url).port;
  const script = [
    `curl -s -i -m 5 --noproxy '' -p -x "$HTTP_PROXY" http://127.0.0.1:${own}/ | head -1; echo connect-rc=$?`,
    `curl -s -i -m 5 --noproxy '' -x "$HTTP_PROXY" http://127.0.0.1:${own}/ | head -1`,
    `curl -s -m 5 --noproxy '' --socks5-hostname \${ALL_PROXY#socks5h://} http://127.0.0.1:${own}/; echo socks-rc=$?`,
  ].join("; ");
  const r = await run(script, LOCAL_ALLOWED, { sandbox: SANDBOX, enforceManagedNetwork: true, managedNetwork: null });
  expect(r.error).toBeUndefined();
  expect(r.out.replaceAll("\r", "")).toBe("HTTP/1.1 403 Forbidden\nconnect-rc=0\nHTTP/1.1 403 Forbidden\nsocks-rc=97\n");
  expect(r.decisions.map((d) => [d.protocol, d.decision, d.reason, d.port])).toEqual([
    ["https_connect", "deny", "not_allowed_local", Number(own)],
    ["http", "deny", "not_allowed_local", Number(own)],
    ["socks5_tcp", "deny", "not_allowed_local", Number(own)],
  ]);
});
