import { afterEach, describe, expect, test } from "bun:test";
import { REGISTRY_RESPONSE_MAX_BYTES } from "../../src/remote/limits.ts";
import { connect, conflictDelayMs, directRegister, register, registerWithRetry, validate } from "../../src/remote/registry.ts";
import type { RegistryTarget } from "../../src/remote/registry.ts";
import { RegistryError } from "../../src/remote/registry-error.ts";
import { signV4 } from "../../src/remote/sigv4.ts";
import { type FakeRegistry, answers, startFakeRegistry } from "../helpers/fake-registry.ts";

// A key object shaped as the executor's (another module builds the real one); the client passes it through untouched.
const EXECUTOR_KEY = { suite: "Noise_hybridIK_X25519+MLKEM768_AESGCM_SHA256", x25519_public_key: "AAAA", mlkem768_public_key: "BBBB" };
const HARNESS_KEY = { suite: "Noise_hybridIK_X25519+MLKEM768_AESGCM_SHA256", x25519_public_key: "CCCC", mlkem768_public_key: "DDDD" };
const STREAM_ID = "0f5d2b1e-8c1a-4e52-9a53-3d2f7b6c9e10";

let registry: FakeRegistry;
afterEach(async () => {
  await registry?.[Symbol.asyncDispose]();
});

function target(overrides: Partial<RegistryTarget> = {}): RegistryTarget {
  return { baseUrl: registry.url, environmentId: "env-1", auth: { kind: "bearer", token: "sk-test", fromStdin: false }, ...overrides };
}

async function failure(promise: Promise<unknown>): Promise<RegistryError> {
  const e = await promise.then(() => undefined, (err: unknown) => err);
  if (!(e instanceof RegistryError)) throw new Error(`expected a RegistryError, got ${String(e)}`);
  return e;
}

describe("register", () => {
  test("request line, headers and body as the reference sends them; base URL trimmed, id percent-encoded", async () => {
    registry = startFakeRegistry();
    const answer = await register(target({ baseUrl: `  ${registry.url}//  `, environmentId: " bad id " }), EXECUTOR_KEY);
    expect(answer).toEqual({ environment_id: "bad id", url: registry.options.rendezvousUrl, security_profile: "noise_hybrid_ik_v1", executor_registration_id: "exreg-1" });
    const [req] = registry.requests;
    expect(req!.method).toBe("POST");
    expect(req!.path).toBe("/cloud/environment/bad%20id/register");
    expect(req!.body).toBe(
      '{"security_profile":"noise_hybrid_ik_v1","executor_public_key":{"suite":"Noise_hybridIK_X25519+MLKEM768_AESGCM_SHA256","x25519_public_key":"AAAA","mlkem768_public_key":"BBBB"}}',
    );
    expect(req!.headers).toMatchObject({
      "content-type": "application/json",
      accept: "*/*",
      "accept-encoding": "zstd,gzip",
      authorization: "Bearer sk-test",
    });
  });

  test("an environment id cannot change the path: '/', '?', '#' and '..' stay inside its one segment", async () => {
    registry = startFakeRegistry();
    registry.script("register", answers.error(404, "unknown_route", "x"));
    await failure(register(target({ environmentId: "../../x?y#z" }), EXECUTOR_KEY));
    expect(registry.requests.map((r) => [r.path, r.environmentId])).toEqual([["/cloud/environment/..%2F..%2Fx%3Fy%23z/register", "../../x?y#z"]]);
  });

  test("the reply's checks: environment id, security profile, required fields, a stdin bearer echoed back", async () => {
    registry = startFakeRegistry();
    const ok = { environment_id: "env-1", url: "ws://127.0.0.1:1/", security_profile: "noise_hybrid_ik_v1", executor_registration_id: "r1" };
    registry.script(
      "register",
      answers.json({ ...ok, environment_id: "other" }),
      answers.json({ ...ok, security_profile: "x" }),
      answers.json({ environment_id: "env-1", url: "ws://127.0.0.1:1/", security_profile: "noise_hybrid_ik_v1" }),
      answers.json({ ...ok, extra: "unknown fields are tolerated" }),
      answers.json({ ...ok, url: "ws://127.0.0.1:1/?t=sk-test" }),
      answers.json({ ...ok, url: "ws://127.0.0.1:1/?t=sk-test" }),
    );
    const messages = [];
    for (let i = 0; i < 3; i++) messages.push((await failure(register(target(), EXECUTOR_KEY))).message);
    expect(messages).toEqual([
      "exec-server protocol error: environment registry returned a different environment id",
      "exec-server protocol error: environment registry returned unsupported security profile `x`",
      "failed to serialize or deserialize exec-server JSON: executor_registration_id: Invalid input: expected string, received undefined",
    ]);
    expect((await register(target(), EXECUTOR_KEY)).executor_registration_id).toBe("r1");
    // The same echo is fine for CODEX_API_KEY, refused for --registration-bearer-stdin (as the reference).
    expect((await register(target(), EXECUTOR_KEY)).url).toBe("ws://127.0.0.1:1/?t=sk-test");
    const echoed = await failure(register(target({ auth: { kind: "bearer", token: "sk-test", fromStdin: true } }), EXECUTOR_KEY));
    expect([echoed.kind, echoed.message]).toEqual(["protocol", "exec-server protocol error: invalid environment registry executor registration response"]);
  });

  test("registration_conflict is retried with jittered, doubling, capped delays; the same key each time", async () => {
    registry = startFakeRegistry();
    registry.script("register", ...Array.from({ length: 6 }, answers.conflict));
    const draws = [0, 0.32, 0.96, 0.5, 0.84, 0.2];
    const slept: number[] = [];
    const answer = await registerWithRetry(target(), EXECUTOR_KEY, {
      random: () => draws[slept.length]!,
      sleep: async (ms) => void slept.push(ms),
    });
    expect(answer.executor_registration_id).toBe("exreg-1");
    // 0.5 s · 2^n capped at 5 s, times 1 + 0.5·draw (the reference's observed 0.50, 1.16, 2.96 s are the first three).
    expect(slept).toEqual([500, 1160, 2960, 5000, 7100, 5500]);
    const bodies = new Set(registry.requestsTo("register").map((r) => r.body));
    expect([registry.requestsTo("register").length, bodies.size]).toEqual([7, 1]);
  });

  test("a conflict waits on the real clock before the retry", async () => {
    registry = startFakeRegistry();
    registry.script("register", answers.conflict());
    const started = performance.now();
    await registerWithRetry(target(), EXECUTOR_KEY, { random: () => 0 });
    expect(performance.now() - started).toBeGreaterThanOrEqual(conflictDelayMs(0, 0) - 5);
    expect(registry.requestsTo("register").length).toBe(2);
  });

  test("fatal answers are not retried, with the reference's texts", async () => {
    registry = startFakeRegistry();
    registry.script(
      "register",
      answers.error(401, "unauthorized", "nope"),
      answers.error(403, "forbidden", "nope"),
      answers.error(503, "other", "busy"),
      answers.raw(500, "oops"),
      answers.raw(502, ""),
      { status: 307, headers: { location: "/elsewhere" } },
    );
    const seen = [];
    for (let i = 0; i < 6; i++) {
      const e = await failure(registerWithRetry(target(), EXECUTOR_KEY, { sleep: async () => {} }));
      seen.push([e.kind, e.status, e.message]);
    }
    expect(seen).toEqual([
      ["auth", 401, "environment registry authentication error: environment registry authentication failed (401 Unauthorized): nope"],
      ["auth", 403, "environment registry authentication error: environment registry authentication failed (403 Forbidden): nope"],
      ["http", 503, "environment registry request failed (503 Service Unavailable, other): busy"],
      ["http", 500, "environment registry request failed (500 Internal Server Error): oops"],
      ["http", 502, "environment registry request failed (502 Bad Gateway): empty or malformed error body"],
      ["http", 307, "environment registry request failed (307 Temporary Redirect): empty or malformed error body"],
    ]);
    // One request each: nothing retried, the redirect not followed.
    expect(registry.requests.map((r) => r.path)).toEqual(Array(6).fill("/cloud/environment/env-1/register"));
  });

  test("connection refused and bad configuration", async () => {
    registry = startFakeRegistry();
    const closed = startFakeRegistry();
    const deadUrl = closed.url;
    await closed[Symbol.asyncDispose]();
    const refused = await failure(register(target({ baseUrl: deadUrl }), EXECUTOR_KEY));
    expect([refused.kind, refused.message]).toEqual([
      "transport",
      `environment registry request failed: error sending request for url (${deadUrl}/cloud/environment/env-1/register)`,
    ]);
    expect((await failure(register(target({ environmentId: "  " }), EXECUTOR_KEY))).message).toBe(
      "environment registry configuration error: environment id is required for remote exec-server registration",
    );
    expect((await failure(register(target({ baseUrl: "notaurl" }), EXECUTOR_KEY))).message).toBe(
      "invalid remote exec-server registration URL: relative URL without a base",
    );
    expect(registry.requests).toEqual([]);
  });

  test("gzip and zstd replies are decoded; an unknown coding or a reply inflating past the cap is refused", async () => {
    registry = startFakeRegistry();
    const ok = { environment_id: "env-1", url: "ws://127.0.0.1:1/", security_profile: "noise_hybrid_ik_v1", executor_registration_id: "r-gz" };
    registry.script(
      "register",
      { status: 200, body: ok, encoding: "gzip" },
      { status: 200, body: { ...ok, executor_registration_id: "r-zstd" }, encoding: "zstd" },
      { status: 401, body: { error: { message: "compressed error" } }, encoding: "zstd" },
      { status: 200, body: "{}", headers: { "content-encoding": "br" } },
      { status: 200, body: JSON.stringify({ ...ok, pad: "x".repeat(REGISTRY_RESPONSE_MAX_BYTES) }), encoding: "zstd" },
    );
    expect((await register(target(), EXECUTOR_KEY)).executor_registration_id).toBe("r-gz");
    expect((await register(target(), EXECUTOR_KEY)).executor_registration_id).toBe("r-zstd");
    expect((await failure(register(target(), EXECUTOR_KEY))).message).toEndWith("(401 Unauthorized): compressed error");
    expect((await failure(register(target(), EXECUTOR_KEY))).message).toBe("environment registry reply has unsupported content-encoding `br`");
    expect((await failure(register(target(), EXECUTOR_KEY))).message).toBe(`environment registry reply exceeds ${REGISTRY_RESPONSE_MAX_BYTES} bytes`);
  });
});

describe("validate", () => {
  const request = { executor_registration_id: "exreg-1", harness_public_key: HARNESS_KEY, harness_key_authorization: "hka" };

  test("body and the stream-id header on the wire", async () => {
    registry = startFakeRegistry();
    expect(await validate(target(), STREAM_ID, request)).toEqual({ kind: "valid" });
    const [req] = registry.requests;
    expect(req!.path).toBe("/cloud/environment/env-1/validate");
    expect(req!.body).toBe(
      '{"executor_registration_id":"exreg-1","harness_public_key":{"suite":"Noise_hybridIK_X25519+MLKEM768_AESGCM_SHA256","x25519_public_key":"CCCC","mlkem768_public_key":"DDDD"},"harness_key_authorization":"hka"}',
    );
    expect(req!.headers).toMatchObject({ "x-codex-noise-stream-id": STREAM_ID, authorization: "Bearer sk-test", "content-type": "application/json", accept: "*/*" });
  });

  test("every answer is a typed outcome: true, false, 500, 401, 403, malformed, gzip, zstd, no answer", async () => {
    registry = startFakeRegistry();
    registry.script(
      "validate",
      answers.json({ valid: true }),
      answers.json({ valid: false }),
      answers.raw(500, "boom"),
      answers.error(401, "unauthorized", "executor token expired"),
      answers.error(403),
      answers.json({ valid: "yes" }),
      { status: 200, body: { valid: true }, encoding: "gzip" },
      { status: 200, body: { valid: false }, encoding: "zstd" },
    );
    const outcomes = [];
    for (let i = 0; i < 8; i++) {
      const o = await validate(target(), STREAM_ID, request);
      outcomes.push(o.kind === "failed" || o.kind === "executor_rejected" ? [o.kind, o.error.status ?? o.error.kind] : [o.kind]);
    }
    expect(outcomes).toEqual([["valid"], ["invalid"], ["failed", 500], ["executor_rejected", 401], ["executor_rejected", 403], ["failed", "protocol"], ["valid"], ["invalid"]]);
    const closed = startFakeRegistry();
    const deadUrl = closed.url;
    await closed[Symbol.asyncDispose]();
    expect((await validate(target({ baseUrl: deadUrl }), STREAM_ID, request)).kind).toBe("failed");
  });
});

describe("connect (harness side)", () => {
  test("returns the executor's registered key and a harness authorization; blank fields are refused", async () => {
    registry = startFakeRegistry();
    await register(target(), EXECUTOR_KEY);
    const bundle = await connect(target(), HARNESS_KEY);
    expect(bundle).toEqual({
      environment_id: "env-1",
      url: registry.options.rendezvousUrl,
      security_profile: "noise_hybrid_ik_v1",
      executor_registration_id: "exreg-1",
      executor_public_key: EXECUTOR_KEY,
      harness_key_authorization: "harness-key-authorization-1",
    });
    expect(registry.requestsTo("connect")[0]!.body).toBe(`{"harness_public_key":${JSON.stringify(HARNESS_KEY)}}`);
    registry.script("connect", answers.json({ ...bundle, harness_key_authorization: " " }));
    expect((await failure(connect(target(), HARNESS_KEY))).message).toBe("exec-server protocol error: environment registry returned a blank harness_key_authorization");
  });
});

describe("direct/register", () => {
  const scope = { credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" }, region: "us-east-1", service: "execute-api" };
  const now = new Date("2026-12-06T05:46:34Z");

  test("SigV4-signed over content-type;host;x-amz-date, body as the reference's", async () => {
    registry = startFakeRegistry();
    const answer = await directRegister(target({ auth: { kind: "sigv4", scope }, now: () => now }));
    expect(answer).toEqual({ environment_id: "env-1", transport: "direct_jsonrpc_v1", registration_id: "exreg-1", url: registry.options.rendezvousUrl });
    const [req] = registry.requests;
    expect([req!.path, req!.body]).toEqual(["/cloud/environment/env-1/direct/register", '{"transport":"direct_jsonrpc_v1"}']);
    const expected = signV4(
      { method: "POST", url: new URL(`${registry.url}/cloud/environment/env-1/direct/register`), headers: { "content-type": "application/json" }, body: req!.body },
      scope,
      now,
    );
    expect(req!.headers).toMatchObject({ ...expected, "content-type": "application/json", accept: "*/*" });
    expect(req!.headers.authorization).toContain("SignedHeaders=content-type;host;x-amz-date, ");
  });

  test("the reply's checks: transport, blank fields, wss unless loopback", async () => {
    registry = startFakeRegistry();
    const ok = { environment_id: "env-1", transport: "direct_jsonrpc_v1", registration_id: "r", url: "ws://localhost:1/ws" };
    registry.script(
      "direct/register",
      answers.json(ok),
      answers.json({ ...ok, transport: "other" }),
      answers.json({ ...ok, registration_id: "" }),
      answers.json({ ...ok, url: "ws://0.0.0.0:1/ws" }),
      answers.json({ ...ok, url: "wss://0.0.0.0:1/ws" }),
    );
    const t = target({ auth: { kind: "sigv4", scope } });
    expect((await directRegister(t)).url).toBe("ws://localhost:1/ws");
    const messages = [];
    for (let i = 0; i < 3; i++) messages.push((await failure(directRegister(t))).message);
    expect(messages).toEqual([
      "exec-server protocol error: environment registry returned unsupported transport `other`",
      "exec-server protocol error: environment registry returned a blank registration_id",
      "exec-server protocol error: direct exec-server url must use wss unless its host is loopback",
    ]);
    expect((await directRegister(t)).url).toBe("wss://0.0.0.0:1/ws");
  });
});
