/**
 * `execbox --remote <registry> --environment-id env-1` (noise transport)
 * against a fake registry and a fake rendezvous: registration, the Noise
 * handshake with validation, JSON-RPC over streams, resume after a stream
 * reset, reconnect and re-registration. Runs EXECBOX_BIN when set.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { answers, type FakeRegistry, startFakeRegistry } from "../helpers/fake-registry.ts";
import { FakeRendezvous } from "../helpers/fake-rendezvous.ts";
import { NoiseHarness } from "../helpers/noise-harness.ts";
import { RawClient } from "../helpers/rpc-client.ts";
import { execboxCommand, startServer, tempDir } from "../helpers/server.ts";
import { type SpawnedExecutor, spawnExecutor } from "../helpers/spawned-executor.ts";
import { waitUntil } from "../helpers/wait.ts";
import { HybridKeyPair, NoiseInitiator, buildPrologue, parseNoiseKeyJson } from "../../src/remote/noise/index.ts";
import { RELAY_RESET_REASON, dataFrame, resumeFrame } from "../../src/remote/relay/frame.ts";

const ENV = { PATH: "/usr/bin:/bin" };

type Setup = { registry: FakeRegistry; rendezvous: FakeRendezvous; harness: NoiseHarness; proc: Bun.Subprocess; stderr: () => string; executor: SpawnedExecutor };
let running: Setup | undefined;

afterEach(async () => {
  if (!running) return;
  await running.executor.stop();
  running.rendezvous.stop();
  await running.registry[Symbol.asyncDispose]();
  running = undefined;
});

/** Fake registry + rendezvous, and an executor registered and connected to them. */
async function startRemote(extraArgs: string[] = []): Promise<Setup> {
  const rendezvous = new FakeRendezvous();
  const registry = startFakeRegistry({ rendezvousUrl: rendezvous.url() });
  const executor = spawnExecutor([...execboxCommand(), "--remote", registry.url, "--environment-id", "env-1", ...extraArgs], {
    ...process.env,
    CODEX_API_KEY: "test-api-key",
  });
  const harness = new NoiseHarness(rendezvous, registry, "env-1");
  running = { registry, rendezvous, harness, proc: executor.proc, stderr: executor.stderr, executor };
  await rendezvous.waitFor(() => rendezvous.connected, "the executor to connect", 15_000).catch((e) => {
    throw new Error(`${e.message}; stderr: ${executor.stderr()}`);
  });
  return running;
}

describe("remote mode (noise)", () => {
  test("registers its static key, then a validated stream runs a process", async () => {
    const { registry, rendezvous, harness, stderr } = await startRemote();
    const [reg] = registry.requestsTo("register");
    expect(reg!.headers.authorization).toBe("Bearer test-api-key");
    const body = JSON.parse(reg!.body);
    expect(body.security_profile).toBe("noise_hybrid_ik_v1");
    expect(Object.keys(body.executor_public_key)).toEqual(["suite", "x25519_public_key", "mlkem768_public_key"]);
    expect(parseNoiseKeyJson(body.executor_public_key).mlkem768.length).toBe(1184);

    using dir = tempDir();
    const streamId = crypto.randomUUID();
    const client = await harness.connect(streamId);
    const [validation] = registry.requestsTo("validate");
    expect(validation!.headers["x-codex-noise-stream-id"]).toBe(streamId);
    expect(JSON.parse(validation!.body)).toEqual({
      executor_registration_id: "exreg-1",
      harness_public_key: expect.objectContaining({ suite: "Noise_hybridIK_X25519+MLKEM768_AESGCM_SHA256" }),
      harness_key_authorization: "harness-key-authorization-1",
    });
    // Message 2 with an empty payload is 3424 bytes (remote.md §5.4).
    const handshake = rendezvous.framesFor(streamId).find((f) => f.body?.kind === "handshake");
    expect(handshake!.body!.kind === "handshake" && handshake!.body!.payload.length).toBe(3424);

    await client.initialize();
    await client.ok("process/start", { processId: "p", argv: ["echo", "hi"], cwd: dir.uri, env: ENV, tty: false });
    const events = await client.processDone("p");
    expect(client.output("p").toString()).toBe("hi\n");
    expect(events.at(-1)!.method).toBe("process/closed");
    // Data frames go out with seq = nonce, from 0, segment 0 of 1.
    const data = rendezvous.framesFor(streamId).filter((f) => f.body?.kind === "data");
    expect(data.map((f) => (f.body as { seq: number }).seq)).toEqual(data.map((_, i) => i));
    expect(stderr()).toContain("registered environment env-1 (registration exreg-1)");
    expect(stderr()).toContain(`stream ${streamId} opened`);
    expect(stderr()).not.toContain("test-api-key");
  });

  test("validate false: the stream is reset and never served", async () => {
    const { registry, harness } = await startRemote();
    registry.script("validate", answers.json({ valid: false }));
    const result = await harness.open();
    expect(result.kind).toBe("reset");
    if (result.kind !== "reset") return;
    expect(result.frames.map((f) => f.body)).toEqual([{ kind: "reset", reason: "noise_relay_protocol_error" }]);
  });

  test("a 401 from validate: message 2 carries the registry-rejection marker, then a reset", async () => {
    const { registry, rendezvous, harness } = await startRemote();
    registry.script("validate", answers.error(401, "unauthorized", "bad executor credentials"));
    const streamId = crypto.randomUUID();
    const result = await harness.open(streamId);
    expect(result.kind).toBe("registry-auth-rejected");
    await rendezvous.waitFor(() => rendezvous.framesFor(streamId).length === 2, "the reset after message 2");
    expect(rendezvous.framesFor(streamId).map((f) => f.body?.kind)).toEqual(["handshake", "reset"]);
  });

  test("a validation the registry is slow to answer holds up no other stream", async () => {
    const { registry, rendezvous, harness } = await startRemote();
    // The first validate request waits for the gate before the fake answers it.
    const gate = Promise.withResolvers<void>();
    const answer = registry.handle.bind(registry);
    let validations = 0;
    registry.handle = async (req) => {
      if (new URL(req.url).pathname.endsWith("/validate") && validations++ === 0) await gate.promise;
      return answer(req);
    };
    const slowId = crypto.randomUUID();
    const slow = harness.open(slowId);
    await waitUntil(() => validations === 1, 10_000, "the first validation to reach the registry");
    const fast = await harness.connect();
    await fast.initialize();
    expect(rendezvous.framesFor(slowId)).toEqual([]); // Still waiting for its answer, unanswered.
    gate.resolve();
    expect((await slow).kind).toBe("accepted");
  });

  test("two streams at once are independent sessions", async () => {
    const { harness } = await startRemote();
    using dir = tempDir();
    const [a, b] = await Promise.all([harness.connect(), harness.connect()]);
    const [ia, ib] = await Promise.all([a.initialize(), b.initialize()]);
    expect(ia.sessionId).not.toBe(ib.sessionId);
    await Promise.all([
      a.ok("process/start", { processId: "p", argv: ["echo", "from-a"], cwd: dir.uri, env: ENV, tty: false }),
      b.ok("process/start", { processId: "p", argv: ["echo", "from-b"], cwd: dir.uri, env: ENV, tty: false }),
    ]);
    await Promise.all([a.processDone("p"), b.processDone("p")]);
    expect(a.output("p").toString()).toBe("from-a\n");
    expect(b.output("p").toString()).toBe("from-b\n");
  });

  test("a stream reset mid-process detaches its session; a new stream resumes it", async () => {
    const { harness, stderr } = await startRemote();
    using dir = tempDir();
    const a = await harness.connect();
    const { sessionId } = await a.initialize();
    await a.ok("process/start", { processId: "keep", argv: ["sh", "-c", "echo before; read x; echo after-$x"], cwd: dir.uri, env: ENV, tty: false, pipeStdin: true });
    await a.waitFor((f) => f.method === "process/output");
    a.close(); // The harness resets the stream.
    await waitUntil(() => stderr().includes(`stream ${a.streamId} closed: reset by the harness`), 10_000, "the executor to log the reset");

    const b = await harness.connect();
    const resumed = await b.initialize("t", sessionId);
    expect(resumed.sessionId).toBe(sessionId);
    await b.ok("process/write", { processId: "keep", chunk: Buffer.from("x\n").toString("base64"), writeId: "1" });
    await b.processDone("keep");
    const read = await b.ok("process/read", { processId: "keep" });
    expect(read.chunks.map((ch: any) => Buffer.from(ch.chunk, "base64").toString()).join("")).toBe("before\nafter-x\n");
  });

  test("a record that fails to decrypt resets only its stream", async () => {
    const { harness, rendezvous, stderr } = await startRemote();
    const [bad, good] = await Promise.all([harness.connect(), harness.connect()]);
    await Promise.all([bad.initialize(), good.initialize()]);
    // initialize and initialized went out as records 0 and 1: record 2 is garbage.
    rendezvous.inject(dataFrame(bad.streamId, 2, new Uint8Array(32).fill(9)));
    await bad.waitClosed();
    expect(rendezvous.framesFor(bad.streamId).at(-1)!.body).toEqual({ kind: "reset", reason: "noise_relay_protocol_error" });
    await waitUntil(() => stderr().includes(`stream ${bad.streamId} closed: failed to process Noise relay payload`), 10_000, "the reset logged");
    using dir = tempDir();
    await good.ok("process/start", { processId: "p", argv: ["echo", "still-here"], cwd: dir.uri, env: ENV, tty: false });
    await good.processDone("p");
    expect(good.output("p").toString()).toBe("still-here\n");
  });

  test("hostile relay frames are dropped or reset; the executor keeps its socket and serves the next stream", async () => {
    const { harness, rendezvous } = await startRemote();
    const upgrades = rendezvous.upgrades.length;
    const victim = crypto.randomUUID();
    rendezvous.inject(new Uint8Array([0xff, 0xfe, 0x01, 0x02, 0x03])); // not a protobuf frame
    rendezvous.inject({ ...resumeFrame(victim), version: 99 }); // an unknown version
    rendezvous.inject(resumeFrame("")); // a blank stream id
    rendezvous.injectText("{\"not\":\"binary\"}"); // a text message
    rendezvous.openStream(victim, new Uint8Array(100).fill(7)); // a message 1 of the wrong size
    await rendezvous.waitFor(() => rendezvous.framesFor(victim).some((f) => f.body?.kind === "reset"), "the bad handshake's reset");
    expect(rendezvous.framesFor(victim).map((f) => f.body)).toEqual([{ kind: "reset", reason: RELAY_RESET_REASON }]);
    rendezvous.inject(dataFrame(crypto.randomUUID(), 0, new Uint8Array(0))); // data for no stream, empty
    // Same socket, and a real stream still works.
    const client = await harness.connect();
    await client.initialize();
    expect(await client.ok("environment/status")).toEqual({ status: "ready" });
    expect(rendezvous.upgrades.length).toBe(upgrades);
  });

  test("a harness static ML-KEM key that is no encapsulation key (FIPS 203 check) resets its stream after validation; the executor stays up", async () => {
    const { harness, rendezvous, registry, stderr } = await startRemote();
    const streamId = crypto.randomUUID();
    const real = HybridKeyPair.generate();
    // Every coefficient ≥ q: the executor cannot encapsulate to it when it writes message 2. Validation does not look at it.
    const forged = { publicKeys: { x25519: real.publicKeys.x25519, mlkem768: new Uint8Array(1184).fill(0xff) }, x25519Secret: real.x25519Secret } as unknown as HybridKeyPair;
    const initiator = new NoiseInitiator({
      prologue: buildPrologue({ environmentId: "env-1", executorRegistrationId: registry.options.executorRegistrationId, streamId }),
      localStatic: forged,
      remoteStatic: parseNoiseKeyJson(registry.executorPublicKey),
    });
    rendezvous.openStream(streamId, initiator.writeMessage1(new TextEncoder().encode(registry.options.harnessKeyAuthorization)));
    await rendezvous.waitFor(() => rendezvous.framesFor(streamId).some((f) => f.body?.kind === "reset"), "the stream's reset");
    expect(rendezvous.framesFor(streamId).map((f) => f.body)).toEqual([{ kind: "reset", reason: RELAY_RESET_REASON }]);
    expect(registry.requestsTo("validate").length).toBe(1);
    expect(stderr()).toContain(
      `relay stream ${streamId} reset: Noise message 2 failed: ML-KEM-768 encapsulation to the peer's key failed (invalid encapsulation key)`,
    );
    const client = await harness.connect();
    await client.initialize();
    expect(await client.ok("environment/status")).toEqual({ status: "ready" });
  });

  test("SIGTERM: the executor leaves the rendezvous and exits 0", async () => {
    const { proc, rendezvous } = await startRemote();
    proc.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
    await rendezvous.waitFor(() => !rendezvous.connected, "the socket to close");
  });

  test("the rendezvous closing the socket: the executor reconnects and serves new streams", async () => {
    const { rendezvous, harness, registry, stderr } = await startRemote();
    await harness.connect();
    rendezvous.closeSocket();
    await rendezvous.waitFor(() => rendezvous.opened === 2 && rendezvous.connected, "the executor to reconnect", 15_000);
    expect(registry.requestsTo("register").length).toBe(1);
    const client = await harness.connect();
    await client.initialize();
    expect(stderr()).toContain("rendezvous reconnecting in");
  });

  test("a 403 on reconnect: the executor registers again (same key) and dials the new URL", async () => {
    const { rendezvous, harness, registry, stderr } = await startRemote();
    rendezvous.rejectNextUpgrade(403);
    rendezvous.closeSocket();
    await rendezvous.waitFor(() => rendezvous.opened === 2 && rendezvous.connected, "the executor to re-register and reconnect", 15_000);
    const registrations = registry.requestsTo("register");
    expect(registrations.length).toBe(2);
    expect(JSON.parse(registrations[1]!.body)).toEqual(JSON.parse(registrations[0]!.body));
    expect(stderr()).toContain("rendezvous refused the connection (HTTP 403); registering again");
    const client = await harness.connect();
    await client.initialize();
  });

  test("--remote with --listen serves both: a WebSocket client and a Noise stream", async () => {
    const rendezvous = new FakeRendezvous();
    await using registry = startFakeRegistry({ rendezvousUrl: rendezvous.url() });
    try {
      await using server = await startServer(["--remote", registry.url, "--environment-id", "env-1"], { env: { ...process.env, CODEX_API_KEY: "test-api-key" } });
      const ws = await RawClient.websocket(server.url);
      await ws.initialize();
      await rendezvous.waitFor(() => rendezvous.connected, "the executor to connect", 15_000);
      const noise = await new NoiseHarness(rendezvous, registry, "env-1").connect();
      const info = await noise.initialize();
      expect(typeof info.sessionId).toBe("string");
      ws.close();
    } finally {
      rendezvous.stop();
    }
  });

  test("--exit-on-stdin-close: stdin's EOF ends the executor (exit 0)", async () => {
    const rendezvous = new FakeRendezvous();
    await using registry = startFakeRegistry({ rendezvousUrl: rendezvous.url() });
    const proc = Bun.spawn([...execboxCommand(), "--remote", registry.url, "--environment-id", "env-1", "--exit-on-stdin-close"], {
      stdout: "pipe",
      stderr: "pipe",
      stdin: "pipe",
      env: { ...process.env, CODEX_API_KEY: "test-api-key" },
    });
    try {
      await rendezvous.waitFor(() => rendezvous.connected, "the executor to connect", 15_000);
      proc.stdin.end();
      expect(await proc.exited).toBe(0);
    } finally {
      proc.kill("SIGKILL");
      rendezvous.stop();
    }
  });

  test("a message's records delivered last to first are reassembled byte for byte (held records outlive the socket's read buffer)", async () => {
    const { harness } = await startRemote();
    using dir = tempDir();
    const client = await harness.connect();
    await client.initialize();
    const bytes = Uint8Array.from({ length: 300 * 1024 }, (_, i) => (i * 7 + (i >> 10)) & 0xff);
    harness.order = (frames) => frames.toReversed();
    await client.ok("fs/writeFile", { path: `${dir.uri}/f.bin`, dataBase64: Buffer.from(bytes).toString("base64") });
    harness.order = (frames) => frames;
    expect(Buffer.from(await Bun.file(`${dir.path}/f.bin`).arrayBuffer()).equals(Buffer.from(bytes))).toBe(true);
  });

  test("3 MiB of output crosses the stream whole and in order (many records)", async () => {
    const { harness } = await startRemote();
    using dir = tempDir();
    const client = await harness.connect();
    await client.initialize();
    const script = "i=0; while [ $i -lt 49152 ]; do printf '%063d\\n' $i; i=$((i+1)); done";
    await client.ok("process/start", { processId: "big", argv: ["sh", "-c", script], cwd: dir.uri, env: ENV, tty: false });
    await client.processDone("big", 60_000);
    const out = client.output("big").toString();
    expect(out.length).toBe(49152 * 64);
    expect(out.slice(-64)).toBe(`${String(49151).padStart(63, "0")}\n`);
  }, 90_000);
});
