/**
 * Many streams on one rendezvous socket, for real: 50 harnesses connect at
 * once through the routing fake rendezvous to one `execbox --remote` (the
 * compiled binary in CI); while one streams 50 MiB of output, each other
 * writes and reads back its own 5 MiB file (a message over ~90 records each
 * way). Every byte must come back exact, on its own stream.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { createHash } from "node:crypto";
import type { ExecboxClient } from "../../src/client/index.ts";
import { connectRemote } from "../../src/client/remote.ts";
import { FakeRendezvous } from "../helpers/fake-rendezvous.ts";
import { type FakeRegistry, startFakeRegistry } from "../helpers/fake-registry.ts";
import { execboxCommand, tempDir } from "../helpers/server.ts";
import { type SpawnedExecutor, spawnExecutor } from "../helpers/spawned-executor.ts";

/**
 * Generous: the figure here is that nothing is lost, not speed, and the suite
 * may run beside other load (a CI run on a machine at load 8 took one
 * `fs/readFile` past the client's default 60 s; alone it takes ~48 s in all).
 */
const CALL_TIMEOUT_MS = 150_000;
setDefaultTimeout(CALL_TIMEOUT_MS + 60_000);

const STREAMS = 50;
const FILE_BYTES = 5 * 1024 * 1024;
const OUTPUT_BYTES = 50 * 1024 * 1024;
const ENV = { PATH: "/usr/bin:/bin" };
const dir = tempDir("execbox-many-streams-");
let rendezvous: FakeRendezvous;
let registry: FakeRegistry;
let executor: SpawnedExecutor | undefined;
const clients: ExecboxClient[] = [];

beforeAll(async () => {
  // Room for 50 MiB of relay frames queued towards one harness socket (Bun's default would drop past 16 MiB).
  rendezvous = new FakeRendezvous({ backpressureLimit: 256 * 1024 * 1024 });
  registry = startFakeRegistry({ rendezvousUrl: rendezvous.url(), harnessUrl: rendezvous.harnessUrl(), bindAuthorizations: true });
  executor = spawnExecutor([...execboxCommand(), "--remote", registry.url, "--environment-id", "env-1"], { ...ENV, CODEX_API_KEY: "test-key" });
  await rendezvous.waitFor(() => rendezvous.connected, "the executor's rendezvous socket", 20_000);
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await executor?.stop();
  rendezvous?.stop();
  await registry?.[Symbol.asyncDispose]();
  dir[Symbol.dispose]();
});

test(`${STREAMS} streams at once: 50 MiB of output on one while the others round-trip 5 MiB files`, async () => {
  const connected = await Promise.all(
    Array.from({ length: STREAMS }, (_, i) => connectRemote({ registry: registry.url, environmentId: "env-1", credentials: { bearer: "h" }, clientName: `s${i}`, resume: false, callTimeoutMs: CALL_TIMEOUT_MS })),
  );
  clients.push(...connected);
  expect(new Set(connected.map((c) => c.sessionId)).size).toBe(STREAMS);

  const [streamer, ...writers] = connected;
  const output = (async () => {
    const p = await streamer!.startProcess({ argv: ["head", "-c", String(OUTPUT_BYTES), "/dev/zero"], cwd: dir.uri, env: ENV, tty: false });
    const out = await p.collect();
    return { bytes: out.stdout.length, nonZero: out.stdout.some((b) => b !== 0), exitCode: out.exitCode };
  })();
  const files = writers.map(async (c, i) => {
    const data = Buffer.alloc(FILE_BYTES, i + 1);
    const path = `${dir.uri}/f${i}.bin`;
    await c.call("fs/writeFile", { path, dataBase64: data.toString("base64") });
    const back = await c.call("fs/readFile", { path });
    return createHash("sha256").update(Buffer.from(back.dataBase64, "base64")).digest("hex") === createHash("sha256").update(data).digest("hex");
  });
  expect(await Promise.all(files)).toEqual(writers.map(() => true));
  expect(await output).toEqual({ bytes: OUTPUT_BYTES, nonZero: false, exitCode: 0 });
});
