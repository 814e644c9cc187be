/**
 * connectRemote's failures before a session exists, each a clear
 * ExecboxConnectionError: the registry refuses, the rendezvous cannot be
 * reached, nobody answers message 1. Real fake registry and rendezvous on
 * 127.0.0.1; no executor (the interop test covers the executor's answers).
 */
import { afterAll, describe, expect, test } from "bun:test";
import { ExecboxConnectionError } from "../../src/client/index.ts";
import { connectRemote } from "../../src/client/remote.ts";
import { HybridKeyPair, toNoiseKeyJson } from "../../src/remote/noise/index.ts";
import { connect, validate } from "../../src/remote/registry.ts";
import { FakeRendezvous } from "../helpers/fake-rendezvous.ts";
import { answers, startFakeRegistry } from "../helpers/fake-registry.ts";

const rendezvous = new FakeRendezvous();
const registry = startFakeRegistry({ rendezvousUrl: rendezvous.url(), harnessUrl: rendezvous.harnessUrl(), bindAuthorizations: true });
// As if an executor had registered: connect hands this key out.
registry.executorPublicKey = toNoiseKeyJson(HybridKeyPair.generate().publicKeys);

afterAll(async () => {
  rendezvous.stop();
  await registry[Symbol.asyncDispose]();
});

const options = { registry: registry.url, environmentId: "env-1", credentials: { bearer: "harness-token" }, resume: false };

async function failure(promise: Promise<unknown>): Promise<ExecboxConnectionError> {
  const error = await promise.then(
    () => null,
    (e) => e,
  );
  expect(error).toBeInstanceOf(ExecboxConnectionError);
  return error;
}

describe("connectRemote failures", () => {
  test("the registry refuses connect: its answer is in the error", async () => {
    registry.script("connect", answers.error(401, "unauthorized", "bad harness token"));
    const error = await failure(connectRemote(options));
    expect(error.message).toBe(
      "registry connect for environment env-1 failed: environment registry authentication error: environment registry authentication failed (401 Unauthorized): bad harness token",
    );
    expect(registry.requestsTo("connect").at(-1)!.headers.authorization).toBe("Bearer harness-token");
  });

  test("connect returns a malformed executor key", async () => {
    const bundle = { environment_id: "env-1", url: rendezvous.harnessUrl(), security_profile: "noise_hybrid_ik_v1", executor_registration_id: "exreg-1" };
    registry.script("connect", answers.json({ ...bundle, executor_public_key: { suite: "other" }, harness_key_authorization: "hka" }));
    const error = await failure(connectRemote(options));
    expect(error.message).toStartWith("registry connect returned an unusable executor key: invalid Noise key object: suite: ");
  });

  test("the rendezvous cannot be reached", async () => {
    const dead = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const url = `ws://127.0.0.1:${dead.port}/harness`;
    dead.stop(true);
    const bundle = {
      environment_id: "env-1",
      url,
      security_profile: "noise_hybrid_ik_v1",
      executor_registration_id: "exreg-1",
      executor_public_key: registry.executorPublicKey,
      harness_key_authorization: "hka",
    };
    registry.script("connect", answers.json(bundle));
    const error = await failure(connectRemote(options));
    expect(error.message).toStartWith(`cannot reach the rendezvous at ${url}: `);
  });

  test("no executor answers message 1: the handshake times out, after resume{0} and handshake{3568 + n bytes}", async () => {
    const error = await failure(connectRemote({ ...options, handshakeTimeoutMs: 300 }));
    expect(error.message).toBe("no Noise message 2 from the executor within 300 ms");
    const [resume, handshake] = rendezvous.fromHarness.slice(-2);
    expect(resume!.body).toEqual({ kind: "resume", nextSeq: 0 });
    expect(handshake!.streamId).toBe(resume!.streamId);
    const authorization = "hka-".length + 36;
    expect(handshake!.body?.kind === "handshake" && handshake!.body.payload.length).toBe(3568 + authorization);
    await rendezvous.waitFor(() => rendezvous.harnessSockets.size === 0, "the harness socket to close");
  });
});

describe("the fake registry with bindAuthorizations", () => {
  test("validate accepts an issued authorization only with the key and registration it was issued for", async () => {
    const target = { baseUrl: registry.url, environmentId: "env-1", auth: { kind: "bearer" as const, token: "t", fromStdin: false } };
    const key = toNoiseKeyJson(HybridKeyPair.generate().publicKeys);
    const other = toNoiseKeyJson(HybridKeyPair.generate().publicKeys);
    const bundle = await connect(target, key);
    expect(bundle.url).toBe(rendezvous.harnessUrl());
    expect(bundle.executor_public_key).toEqual(registry.executorPublicKey as never);
    const ask = (harness_public_key: unknown, harness_key_authorization: string, executor_registration_id = "exreg-1") =>
      validate(target, crypto.randomUUID(), { executor_registration_id, harness_public_key, harness_key_authorization } as never).then((o) => o.kind);
    expect(await ask(key, bundle.harness_key_authorization)).toBe("valid");
    expect(await ask(other, bundle.harness_key_authorization)).toBe("invalid");
    expect(await ask(key, bundle.harness_key_authorization, "exreg-2")).toBe("invalid");
    expect(await ask(key, "hka-never-issued")).toBe("invalid");
  });
});
