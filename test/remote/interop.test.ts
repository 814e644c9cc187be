/**
 * Interop: execbox's harness side (registry connect, relay frames, hybridIK
 * initiator, Noise records) against the REFERENCE executor
 * (`codex exec-server --remote`) and against execbox's own (`execbox
 * --remote`, the compiled binary in CI), through the fake registry and the
 * routing fake rendezvous, all on 127.0.0.1. The same suite runs on both, so
 * any drift between them shows.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { type ExecboxClient, ExecboxConnectionError } from "../../src/client/index.ts";
import { connectRemote } from "../../src/client/remote.ts";
import { FakeRendezvous } from "../helpers/fake-rendezvous.ts";
import { answers, type FakeRegistry, startFakeRegistry } from "../helpers/fake-registry.ts";
import { binaryVersion, referenceForTests } from "../helpers/reference-bin.ts";
import { PROTOCOL_VERSION } from "../../src/version.ts";
import { execboxCommand, tempDir } from "../helpers/server.ts";
import { type SpawnedExecutor, spawnExecutor } from "../helpers/spawned-executor.ts";

setDefaultTimeout(30_000);

function interopSuite(label: string, command: string[], protocolVersion: string): void {
  const ENV = { PATH: "/usr/bin:/bin" };
  const ENVIRONMENT = "env-1";
  const dir = tempDir();
  const home = tempDir("execbox-codex-home-");
  let rendezvous: FakeRendezvous;
  let registry: FakeRegistry;
  let executor: SpawnedExecutor | undefined;
  let client: ExecboxClient | undefined;

  const dataFramesFromHarness = () => rendezvous.fromHarness.filter((f) => f.body?.kind === "data").length;
  const remote = () => ({ registry: registry.url, environmentId: ENVIRONMENT, credentials: { bearer: "harness-token" } });

  beforeAll(async () => {
    rendezvous = new FakeRendezvous();
    registry = startFakeRegistry({ rendezvousUrl: rendezvous.url(), harnessUrl: rendezvous.harnessUrl(), bindAuthorizations: true });
    // CODEX_API_KEY is the registry bearer; the reference accepts plain http/ws toward 127.0.0.1 in noise mode.
    executor = spawnExecutor([...command, "--remote", registry.url, "--environment-id", ENVIRONMENT], {
      ...ENV,
      HOME: home.path,
      CODEX_HOME: home.path,
      CODEX_API_KEY: "test-key",
    });
    await rendezvous.waitFor(() => rendezvous.connected, `${label}'s rendezvous socket`, 20_000);
  });

  afterAll(async () => {
    await client?.close();
    await executor?.stop();
    rendezvous?.stop();
    await registry?.[Symbol.asyncDispose]();
    dir[Symbol.dispose]();
    home[Symbol.dispose]();
  });

  describe(`connectRemote against ${label}`, () => {
    test("the executor registered with its API key and the noise profile", () => {
      const [reg] = registry.requestsTo("register");
      expect(reg!.headers.authorization).toBe("Bearer test-key");
      expect(JSON.parse(reg!.body).security_profile).toBe("noise_hybrid_ik_v1");
    });

    test("initialize, environment/info, process/start echo → output + closed, fs/readFile", async () => {
      client = await connectRemote({ ...remote(), clientName: "interop" });
      expect(client.state).toBe("connected");
      expect(client.environmentInfo.executorVersion).toBe(protocolVersion);
      // The executor validated the authorization connect issued, for this stream.
      const [validate] = registry.requestsTo("validate");
      const [connect] = registry.requestsTo("connect");
      const asked = JSON.parse(validate!.body);
      expect(asked.harness_key_authorization).toMatch(/^hka-[0-9a-f-]{36}$/);
      expect([asked.executor_registration_id, asked.harness_public_key]).toEqual(["exreg-1", JSON.parse(connect!.body).harness_public_key]);
      expect(connect!.headers.authorization).toBe("Bearer harness-token");
      expect(validate!.headers["x-codex-noise-stream-id"]).toBe(rendezvous.fromHarness[0]!.streamId);

      const info = await client.call("environment/info");
      expect(info).toEqual(client.environmentInfo);

      const p = await client.startProcess({ argv: ["echo", "hi"], cwd: dir.uri, env: ENV, tty: false });
      const out = await p.collect();
      expect([Buffer.from(out.stdout).toString(), out.exitCode]).toEqual(["hi\n", 0]);

      writeFileSync(join(dir.path, "hello.txt"), "remote hello");
      expect(await client.call("fs/readFile", { path: `${dir.uri}/hello.txt` })).toEqual({ dataBase64: Buffer.from("remote hello").toString("base64") });
    });

    test("messages larger than one 60 KiB record, both ways: fs/writeFile then fs/readFile of 300 KiB", async () => {
      const data = Buffer.alloc(300 * 1024, "abcdefgh").toString("base64");
      const sentBefore = dataFramesFromHarness();
      await client!.call("fs/writeFile", { path: `${dir.uri}/big.bin`, dataBase64: data });
      // 400 KiB of base64 in ≤ 60 KiB records: at least 7 data frames for the one request.
      expect(dataFramesFromHarness() - sentBefore).toBeGreaterThanOrEqual(7);
      expect(await client!.call("fs/readFile", { path: `${dir.uri}/big.bin` })).toEqual({ dataBase64: data });
    });

    test("validate answering false: the executor resets the stream and connectRemote fails clearly", async () => {
      registry.script("validate", answers.json({ valid: false }));
      const error = await connectRemote({ ...remote(), resume: false }).catch((e) => e);
      expect(error).toBeInstanceOf(ExecboxConnectionError);
      expect(error.message).toBe(
        "the executor refused the stream (relay reset): the registry did not validate the harness key, or message 1 was rejected",
      );
      const streamId = rendezvous.fromHarness.at(-1)!.streamId;
      expect(rendezvous.framesFor(streamId).map((f) => f.body)).toEqual([{ kind: "reset", reason: "noise_relay_protocol_error" }]);
    });

    test("validate answering 401: the executor completes message 2 with the rejection marker; connectRemote names it", async () => {
      registry.script("validate", answers.error(401, "unauthorized", "executor token expired"));
      const error = await connectRemote({ ...remote(), resume: false }).catch((e) => e);
      expect(error).toBeInstanceOf(ExecboxConnectionError);
      expect(error.message).toBe(
        "the registry rejected the executor's own credentials (message 2 carried codex-registry-authentication-rejected/v1); the stream was not opened",
      );
      const streamId = rendezvous.fromHarness.at(-1)!.streamId;
      // Message 2: ekem 1088 + skem 1104 + e 1216 + payload 41 + tag 16.
      // (execbox then resets the stream; the reference leaves it to the harness.)
      expect(rendezvous.framesFor(streamId).map((f) => (f.body?.kind === "handshake" ? f.body.payload.length : f.body?.kind))[0]).toBe(3465);
    });

    test("without resume, a dropped stream fails the pending call and the client", async () => {
      const c = await connectRemote({ ...remote(), resume: false });
      const p = await c.startProcess({ argv: ["sleep", "30"], cwd: dir.uri, env: ENV, tty: false });
      const failed = new Promise<Error | undefined>((resolve) => c.on("state", (state, e) => state === "failed" && resolve(e)));
      const sent = dataFramesFromHarness();
      const pending = c.call("process/read", { processId: p.id, waitMs: 20_000 }).catch((e) => e);
      await rendezvous.waitFor(() => dataFramesFromHarness() > sent, "the read on the wire");
      rendezvous.closeHarnessSockets();
      const error = await pending;
      expect(error).toBeInstanceOf(ExecboxConnectionError);
      expect([error.message, error.method, error.mayHaveApplied]).toEqual([
        "connection lost while process/read was in flight; it may or may not have been applied",
        "process/read",
        true,
      ]);
      expect((await failed)?.message).toBe(`connection to environment env-1 at ${registry.url} lost: relay connection closed: closed by the rendezvous (code 1001)`);
      expect(c.state).toBe("failed");
    });

    test("with resume (the default), a dropped stream is resumed on a new stream: same session, output not lost", async () => {
      const c = await connectRemote(remote());
      try {
        const connects = registry.requestsTo("connect").length;
        const p = await c.startProcess({ argv: ["sh", "-c", "read line; echo got $line"], cwd: dir.uri, env: ENV, tty: false, pipeStdin: true });
        const session = c.sessionId;
        rendezvous.closeHarnessSockets();
        await p.write("after-resume\n");
        const out = await p.collect();
        expect([Buffer.from(out.stdout).toString(), out.exitCode, c.sessionId]).toEqual(["got after-resume\n", 0, session]);
        // A fresh bundle per attempt; a first attempt may meet -32010 (the reset not yet processed) and retry.
        expect(registry.requestsTo("connect").length).toBeGreaterThan(connects);
      } finally {
        await c.close();
      }
    });
  });
}

const reference = referenceForTests();
if (reference) interopSuite("the reference executor", [reference, "exec-server"], binaryVersion(reference) ?? "unknown");
interopSuite("execbox's executor", execboxCommand(), PROTOCOL_VERSION);
