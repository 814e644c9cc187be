/**
 * `execbox --remote <registry> --environment-id env-1 --remote-transport
 * direct --aws-sigv4` against a fake registry and a fake direct endpoint
 * that checks the SigV4-signed upgrade and plays the harness: one JSON-RPC
 * session per socket (text frames), reconnect after a close, re-registration
 * on 409, exit 1 on 403. Runs EXECBOX_BIN when set.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { answers, type FakeRegistry, startFakeRegistry } from "../helpers/fake-registry.ts";
import { type DirectHarness, FAKE_AWS, FakeDirect, resumeOnNextSocket } from "../helpers/fake-direct.ts";
import { execboxCommand, tempDir } from "../helpers/server.ts";
import { type SpawnedExecutor, spawnExecutor } from "../helpers/spawned-executor.ts";

const ENV = { PATH: "/usr/bin:/bin" };

type Setup = { registry: FakeRegistry; direct: FakeDirect; home: Disposable; proc: SpawnedExecutor["proc"]; stderr: () => string; executor: SpawnedExecutor };
let running: Setup | undefined;

afterEach(async () => {
  if (!running) return;
  await running.executor.stop();
  running.direct.stop();
  running.home[Symbol.dispose]();
  await running.registry[Symbol.asyncDispose]();
  running = undefined;
});

/** Fake registry + direct endpoint, and an executor started against them (not yet connected). */
function startDirect(prepare: (registry: FakeRegistry, direct: FakeDirect) => void = () => {}, aws: Record<string, string> = FAKE_AWS): Setup {
  const direct = new FakeDirect();
  const registry = startFakeRegistry({ rendezvousUrl: direct.url("/direct/env-1?session=s1") });
  prepare(registry, direct);
  const home = tempDir();
  const { CODEX_API_KEY: _, ...env } = process.env;
  const executor = spawnExecutor(
    [...execboxCommand(), "--remote", registry.url, "--environment-id", "env-1", "--remote-transport", "direct", "--aws-sigv4"],
    { ...env, ...aws, HOME: home.path },
  );
  running = { registry, direct, home, proc: executor.proc, stderr: executor.stderr, executor };
  return running;
}

async function echo(harness: DirectHarness, text: string): Promise<void> {
  using dir = tempDir();
  await harness.initialize();
  await harness.ok("process/start", { processId: "p", argv: ["echo", text], cwd: dir.uri, env: ENV, tty: false });
  const events = await harness.processDone("p");
  expect(harness.output("p").toString()).toBe(`${text}\n`);
  expect(events.at(-1)!.method).toBe("process/closed");
}

describe("remote mode (direct)", () => {
  test("registers with SigV4, then serves one JSON-RPC session on the signed WebSocket", async () => {
    const { registry, direct, stderr } = startDirect();
    const harness = await direct.harness(0);
    await echo(harness, "hi");
    expect(harness.binaryFrames).toBe(0);

    const [reg] = registry.requestsTo("direct/register");
    expect(JSON.parse(reg!.body)).toEqual({ transport: "direct_jsonrpc_v1" });
    const day = reg!.headers["x-amz-date"]!.slice(0, 8);
    expect(reg!.headers.authorization).toStartWith(
      `AWS4-HMAC-SHA256 Credential=AKIDFAKEDIRECT/${day}/eu-west-3/execute-api/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=`,
    );
    expect(direct.upgrades.map((u) => [u.path, u.signatureOk, u.status])).toEqual([["/direct/env-1?session=s1", true, 101]]);
    expect(direct.upgrades[0]!.headers.authorization).toContain("SignedHeaders=host;x-amz-date, Signature=");
    expect(stderr()).toContain("registered environment env-1 for the direct transport (registration exreg-1)");
    expect(stderr()).toContain("direct connection opened");
    expect(stderr()).not.toContain(FAKE_AWS.AWS_SECRET_ACCESS_KEY);
    expect(stderr()).not.toContain("Signature=");
  });

  test("after the endpoint closes the socket, the executor dials the same URL again; the detached session resumes there", async () => {
    const { registry, direct, stderr } = startDirect();
    using dir = tempDir();
    await direct.harness(0);
    expect(await resumeOnNextSocket(direct, dir.uri)).toEqual({ sameSession: true, output: "before\nafter-x\n" });
    // Each upgrade is signed afresh, to the same URL, without registering again.
    expect(direct.upgrades.map((u) => [u.path, u.signatureOk])).toEqual([
      ["/direct/env-1?session=s1", true],
      ["/direct/env-1?session=s1", true],
    ]);
    expect(registry.requestsTo("direct/register").length).toBe(1);
    expect(stderr()).toMatch(/direct connection closed: .*\n.*direct reconnecting in \d+ ms\b/);
  });

  test("a 409 on the upgrade re-registers, then dials the URL the new registration returned", async () => {
    const { registry, direct } = startDirect((registry, direct) => {
      registry.script("direct/register", answers.json({ environment_id: "env-1", transport: "direct_jsonrpc_v1", registration_id: "old", url: direct.url("/old") }));
      direct.refuse(409);
    });
    await echo(await direct.harness(0), "new");
    expect(direct.upgrades.map((u) => [u.path, u.status])).toEqual([
      ["/old", 409],
      ["/direct/env-1?session=s1", 101],
    ]);
    expect(registry.requestsTo("direct/register").length).toBe(2);
    expect(running!.stderr()).toContain("direct exec-server refused the connection (HTTP 409); registering again");
  });

  test("a 409, then a registration the registry refuses: exit 1 with the registry's error", async () => {
    const { registry, direct, proc, stderr } = startDirect((registry, direct) => {
      direct.refuse(409);
      registry.script("direct/register", answers.json({ environment_id: "env-1", transport: "direct_jsonrpc_v1", registration_id: "r1", url: direct.url() }));
      registry.script("direct/register", answers.error(403, "forbidden", "environment revoked"));
    });
    expect(await proc.exited).toBe(1);
    expect(registry.requestsTo("direct/register").length).toBe(2);
    expect(direct.upgrades.map((u) => u.status)).toEqual([409]);
    expect(stderr()).toContain("direct exec-server refused the connection (HTTP 409); registering again");
    expect(stderr().split("\n").at(-2)).toBe("Error: environment registry authentication error: environment registry authentication failed (403 Forbidden): environment revoked");
  });

  test("a 503 or 429 on the upgrade is retried on the same URL without re-registering", async () => {
    const { registry, direct } = startDirect((_, direct) => direct.refuse(503, 429));
    await echo(await direct.harness(0), "later");
    expect(direct.upgrades.map((u) => u.status)).toEqual([503, 429, 101]);
    expect(registry.requestsTo("direct/register").length).toBe(1);
  });

  test("a 403 on the upgrade ends the executor: exit 1 with the status", async () => {
    const { direct, proc, stderr } = startDirect((_, direct) => direct.refuse(403));
    expect(await proc.exited).toBe(1);
    expect(direct.upgrades.map((u) => u.status)).toEqual([403]);
    expect(stderr()).toEndWith("Error: direct exec-server refused the WebSocket upgrade with HTTP 403; not retrying\n");
  });

  test("the endpoint's signature check is real: an upgrade signed with another secret gets its 403", async () => {
    const { direct, proc } = startDirect(undefined, { ...FAKE_AWS, AWS_SECRET_ACCESS_KEY: "another-secret" });
    expect(await proc.exited).toBe(1);
    expect(direct.upgrades.map((u) => [u.signatureOk, u.status])).toEqual([[false, 403]]);
  });

  test("SIGTERM: the executor closes its socket and exits 0", async () => {
    const { direct, proc } = startDirect();
    const harness = await direct.harness(0);
    await harness.initialize();
    proc.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
    await harness.waitClosed();
    expect(harness.closeCode).toBe(1000);
  });

  test("a registry that is not https (and not loopback) is refused before anything is sent", async () => {
    const proc = Bun.spawn(
      [...execboxCommand(), "--remote", "http://registry.invalid", "--environment-id", "env-1", "--remote-transport", "direct", "--aws-sigv4"],
      { stdout: "ignore", stderr: "pipe", stdin: "ignore", env: { ...process.env, ...FAKE_AWS } },
    );
    expect(await proc.exited).toBe(1);
    expect(await new Response(proc.stderr).text()).toBe("Error: direct exec-server registry url must use https unless its host is loopback\n");
  });
});
