/**
 * networkProxyReviewDomains against a real executor (EXECBOX_BIN when set):
 * curl goes through the process's real proxy to an origin on 127.0.0.1
 * (allowLocalBinding; `--noproxy ''` so curl does not go around the proxy),
 * and a real WebSocket client answers the executor's `network/policyRequest`s
 * (or does not). Every failure to get an answer in time is a refusal
 * (fail closed); answers are matched by id; the server stays up.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { MAX_PENDING_CLIENT_REQUESTS } from "../../src/server/limits.ts";
import { POLICY_DECISION_TRANSPORT_MARGIN_MS } from "../../src/network/decider.ts";
import { networkProxyLaunch } from "../helpers/network-proxy.ts";
import { type Frame, RawClient } from "../helpers/rpc-client.ts";
import { sharedExecutor, tempDir } from "../helpers/server.ts";
import { waitUntil } from "../helpers/wait.ts";
import { existsSync } from "node:fs";

setDefaultTimeout(40_000);

const executor = sharedExecutor();
const dir = tempDir();
let origin: ReturnType<typeof Bun.serve>;
beforeAll(() => {
  origin = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (req) => new Response(`hello ${req.method} ${new URL(req.url).pathname}`) });
});
afterAll(() => {
  origin.stop(true);
  dir[Symbol.dispose]();
});

/** 127.0.0.1 is reachable (allowLocalBinding) but not allowlisted: the client decides it. */
const REVIEWED = { allowLocalBinding: true, domains: { "example.com": "allow" } };
/** A decision timeout no test waits for: 2^42 ms is past setTimeout's longest delay, which must not make it fire at once. */
const PATIENT = { policyDecisionTimeoutMs: 2 ** 42 };
const CURL = "curl -s --noproxy '' -m 30 -w ' %{http_code}' http://127.0.0.1:$ORIGIN/a; echo \" rc=$?\"";
let n = 0;

async function client(): Promise<RawClient> {
  const c = await RawClient.websocket(executor.server.url);
  await c.initialize();
  return c;
}

async function start(c: RawClient, script: string, top: Record<string, unknown> = PATIENT, proxy: Record<string, unknown> = REVIEWED): Promise<string> {
  const processId = `rv${++n}`;
  const env = { PATH: "/usr/bin:/bin", ORIGIN: String(origin.port) };
  await c.ok("process/start", { processId, argv: ["bash", "-c", script], cwd: dir.uri, env, tty: false, networkProxy: { ...networkProxyLaunch(proxy), ...top } });
  return processId;
}

const policyRequest = (c: RawClient, processId: string, nth = 0): Promise<Frame> =>
  c.waitFor((f) => f.method === "network/policyRequest" && f.params.processId === processId && nth-- === 0, 10_000, `policyRequest of ${processId}`);

async function finished(c: RawClient, processId: string): Promise<{ out: string; decisions: Record<string, unknown>[] }> {
  await c.processDone(processId, 30_000);
  const decisions = c.frames
    .filter((f) => f.method === "network/policyDecision" && f.params.processId === processId)
    .map(({ params: { timestamp, client, processId: _, ...rest } }) => rest);
  return { out: c.output(processId, "stdout").toString(), decisions };
}

const decision = (d: Record<string, unknown>) => ({ scope: "domain", protocol: "http", host: "127.0.0.1", port: origin.port, method: "GET", policyOverride: false, ...d });
const refusedBody = (reason: string, message: string, decisionName = "deny") =>
  JSON.stringify({ status: "blocked", host: "127.0.0.1", reason, decision: decisionName, source: "decider", protocol: "http", port: origin.port, message });
const notAllowed = () => `${refusedBody("not_allowed", "Domain not in allowlist.")} 403 rc=0\n`;

test("allow: the request names the process and destination, ids count from 1 per connection, and the connection goes through", async () => {
  const c = await client();
  const id = await start(c, CURL);
  const req = await policyRequest(c, id);
  expect(req).toEqual({ id: 1, method: "network/policyRequest", params: { processId: id, request: { protocol: "http", host: "127.0.0.1", port: origin.port } } });
  c.send({ id: 1, result: { decision: { type: "allow", extra: true }, more: 1 } });
  const r = await finished(c, id);
  expect(r.out).toBe("hello GET /a 200 rc=0\n");
  expect(r.decisions).toEqual([decision({ decision: "allow", source: "decider", reason: "not_allowed", policyOverride: true })]);
  c.close();
});

test("a review domain is asked even when allowlisted; without a decision timeout it is just not allowed", async () => {
  const c = await client();
  const proxy = { allowLocalBinding: true, domains: { "127.0.0.1": "allow" }, reviewDomains: ["127.0.0.1"] };
  const asked = await start(c, CURL, PATIENT, proxy);
  const req = await policyRequest(c, asked);
  c.send({ id: req.id, result: { decision: { type: "deny", reason: "not_allowed" } } });
  expect((await finished(c, asked)).out).toBe(notAllowed());
  const plain = await start(c, CURL, {}, proxy);
  const r = await finished(c, plain);
  expect(r.decisions).toEqual([decision({ decision: "deny", source: "baseline_policy", reason: "not_allowed" })]);
  expect(c.frames.filter((f) => f.method === "network/policyRequest" && f.params.processId === plain)).toEqual([]);
  c.close();
});

test("deny and ask: the client's reason is the 403's, with the reference's header and message for it", async () => {
  const c = await client();
  const cases: [Record<string, unknown>, string][] = [
    [{ type: "deny", reason: "xyz" }, `${refusedBody("xyz", "Request blocked by network policy.")} 403 rc=0\n`],
    [{ type: "deny", reason: "denied" }, `${refusedBody("denied", "Domain denied by the sandbox policy.")} 403 rc=0\n`],
    [{ type: "deny", reason: "" }, `${refusedBody("policy_denied", "Request blocked by network policy.")} 403 rc=0\n`],
    [{ type: "ask", reason: "ask permission" }, `${refusedBody("ask permission", "Request blocked by network policy.", "ask")} 403 rc=0\n`],
  ];
  for (const [answer, out] of cases) {
    const id = await start(c, CURL);
    const req = await policyRequest(c, id);
    c.send({ id: req.id, result: { decision: answer } });
    const r = await finished(c, id);
    expect([answer, r.out]).toEqual([answer, out]);
    const reason = answer.reason === "" ? "policy_denied" : answer.reason;
    expect(r.decisions).toEqual([decision({ decision: answer.type, source: "decider", reason })]);
  }
  c.close();
});

test("an error answer, a malformed one, an overlong or multi-line reason: refused as not_allowed (fail closed)", async () => {
  const c = await client();
  const answers: Frame[] = [
    { error: { code: -32000, message: "nope", data: { decision: { type: "allow" } } } },
    { result: { decision: "allow" } },
    { result: { decision: { type: "Allow" } } },
    { result: { decision: { type: "deny" } } },
    { result: null },
    { result: { decision: { type: "deny", reason: "d".repeat(1025) } } },
    { result: { decision: { type: "deny", reason: "a\nb" } } },
  ];
  for (const answer of answers) {
    const id = await start(c, CURL);
    const req = await policyRequest(c, id);
    c.send({ id: req.id, ...answer });
    const r = await finished(c, id);
    expect([answer, r.out]).toEqual([answer, notAllowed()]);
    expect(r.decisions).toEqual([decision({ decision: "deny", source: "decider", reason: "not_allowed" })]);
  }
  c.close();
});

test("no answer: refused once the timeout plus the transport margin has passed; a late answer is ignored and keeps the connection", async () => {
  const c = await client();
  const id = await start(c, CURL, { policyDecisionTimeoutMs: 1 });
  const req = await policyRequest(c, id);
  const asked = Date.now();
  const r = await finished(c, id);
  const waited = Date.now() - asked;
  expect(waited).toBeGreaterThanOrEqual(POLICY_DECISION_TRANSPORT_MARGIN_MS - 50);
  expect(waited).toBeLessThan(POLICY_DECISION_TRANSPORT_MARGIN_MS + 5_000);
  expect(r.out).toBe(notAllowed());
  c.send({ id: req.id, result: { decision: { type: "allow" } } });
  expect(await c.ok("environment/info")).toHaveProperty("capabilities");
  // An answer to a request never sent drops the connection, as the reference does.
  c.send({ id: req.id + 1, result: { decision: { type: "allow" } } });
  await c.waitClosed();
});

test("a decision timeout of 0 is refused as the reference refuses it", async () => {
  const c = await client();
  const r = await c.call("process/start", { processId: "rv-zero", argv: ["true"], cwd: dir.uri, env: {}, tty: false, networkProxy: { ...networkProxyLaunch(REVIEWED), policyDecisionTimeoutMs: 0 } });
  expect(r.error).toEqual({ code: -32602, message: "network policy decision callback timeout must be nonzero" });
  c.close();
});

test("two processes' requests are told apart by id, whatever order the answers come in", async () => {
  const c = await client();
  const a = await start(c, CURL);
  const b = await start(c, CURL);
  const [ra, rb] = await Promise.all([policyRequest(c, a), policyRequest(c, b)]);
  expect(ra.id).not.toBe(rb.id);
  c.send({ id: rb.id, result: { decision: { type: "allow" } } });
  c.send({ id: ra.id, result: { decision: { type: "deny", reason: "for-a" } } });
  expect((await finished(c, b)).out).toBe("hello GET /a 200 rc=0\n");
  expect((await finished(c, a)).out).toBe(`${refusedBody("for-a", "Request blocked by network policy.")} 403 rc=0\n`);
  c.close();
});

test("one process's exit cancels only its own requests: the other's is still answered", async () => {
  const c = await client();
  const a = await start(c, CURL);
  const b = await start(c, CURL);
  const [, rb] = await Promise.all([policyRequest(c, a), policyRequest(c, b)]);
  await c.ok("process/terminate", { processId: a });
  await c.processDone(a);
  c.send({ id: rb.id, result: { decision: { type: "allow" } } });
  expect((await finished(c, b)).out).toBe("hello GET /a 200 rc=0\n");
  c.close();
});

test("the connection closes while a request waits: refused at once; a detached session's requests are refused at once; the server stays up", async () => {
  const c = await client();
  const sessionId = c.frames.find((f) => f.result?.sessionId)!.result.sessionId;
  const trigger = `${dir.path}/go-${n}`;
  const waiting = await start(c, CURL);
  const later = await start(c, `while [ ! -e ${trigger} ]; do sleep 0.02; done; ${CURL}; touch ${trigger}.done`);
  await policyRequest(c, waiting);
  c.close();
  await c.waitClosed();
  await Bun.write(trigger, "");
  await waitUntil(() => existsSync(`${trigger}.done`), 20_000, "the detached process's curl");
  // Resumed after both finished (refused without waiting for the timeout), their output read back.
  const again = await RawClient.websocket(executor.server.url);
  await again.initialize("test", sessionId);
  for (const id of [waiting, later]) {
    const read = await again.ok("process/read", { processId: id, waitMs: 0, afterSeq: 0 });
    let chunks = read.chunks;
    let r = read;
    while (!r.closed) {
      r = await again.ok("process/read", { processId: id, waitMs: 5_000, afterSeq: r.nextSeq - 1 });
      chunks = chunks.concat(r.chunks);
    }
    const out = Buffer.concat(chunks.filter((ch: Frame) => ch.stream === "stdout").map((ch: Frame) => Buffer.from(ch.chunk, "base64"))).toString();
    expect([id, out]).toEqual([id, notAllowed()]);
  }
  expect(again.frames.filter((f) => f.method === "network/policyRequest")).toEqual([]);
  again.close();
});

test(`more than ${MAX_PENDING_CLIENT_REQUESTS} requests waiting on one connection: the one over is refused at once`, async () => {
  const c = await client();
  // Raw requests on many sockets from one bash each (a curl per request would cost a process each).
  const open = (count: number) =>
    `H=\${HTTP_PROXY##*:}; for i in $(seq ${count}); do exec {fd}<>/dev/tcp/127.0.0.1/$H; printf 'GET http://127.0.0.1:%s/a HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n' $ORIGIN >&$fd; fds+=($fd); done; ` +
    `for fd in "\${fds[@]}"; do timeout 30 head -1 <&$fd; done | sort | uniq -c`;
  const half = MAX_PENDING_CLIENT_REQUESTS / 2;
  const asked = (count: number) => () => c.frames.filter((f) => f.method === "network/policyRequest").length === count;
  const a = await start(c, open(half));
  await c.waitFor(asked(half), 30_000, "the first process's requests");
  const b = await start(c, open(half + 1));
  await c.waitFor(asked(MAX_PENDING_CLIENT_REQUESTS), 30_000, "all requests");
  const over = await c.waitFor((f) => f.method === "network/policyDecision" && f.params.processId === b, 10_000, "the refusal over the cap");
  expect(over.params).toMatchObject({ decision: "deny", source: "decider", reason: "not_allowed" });
  for (const f of c.frames.filter((f) => f.method === "network/policyRequest")) c.send({ id: f.id, result: { decision: { type: "allow" } } });
  expect((await finished(c, a)).out.trim()).toBe(`${half} HTTP/1.1 200 OK`);
  expect((await finished(c, b)).out.trim().split("\n").map((l) => l.trim())).toEqual([`${half} HTTP/1.1 200 OK`, "1 HTTP/1.1 403 Forbidden"]);
  c.close();
});
