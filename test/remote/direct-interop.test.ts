/**
 * Direct transport (remote.md §7), both executors, one suite: the REFERENCE
 * (`codex exec-server --remote … --remote-transport direct --aws-sigv4`) and
 * execbox run against the fake registry (`…/direct/register`) and the fake
 * direct endpoint (which recomputes each upgrade's SigV4 signature), with
 * fake AWS credentials in the environment; the endpoint plays the harness
 * (plain JSON-RPC text frames). Where the two differ on purpose the
 * assertion says so per executor. The reference leg is skipped, with a
 * message, only when its binary is missing (CODEX_BIN overrides it).
 */
import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { answers, type FakeRegistry, startFakeRegistry } from "../helpers/fake-registry.ts";
import { type DirectHarness, FAKE_AWS, FAKE_AWS_SCOPE, FakeDirect, resumeOnNextSocket } from "../helpers/fake-direct.ts";
import { referenceForTests } from "../helpers/reference-bin.ts";
import { execboxCommand, tempDir } from "../helpers/server.ts";
import { type SpawnedExecutor, spawnExecutor } from "../helpers/spawned-executor.ts";
import { signV4 } from "../../src/remote/sigv4.ts";

setDefaultTimeout(30_000);

const ENV = { PATH: "/usr/bin:/bin" };
const ENDPOINT_PATH = "/direct/env-1?session=s1";
const REFERENCE = referenceForTests();

type Side = "reference" | "execbox";
type Setup = { registry: FakeRegistry; direct: FakeDirect; executor: SpawnedExecutor };

function directSuite(side: Side, command: string[]): void {
  let running: { setup: Setup; home: Disposable } | undefined;

  afterEach(async () => {
    if (!running) return;
    await running.setup.executor.stop();
    running.setup.direct.stop();
    await running.setup.registry[Symbol.asyncDispose]();
    running.home[Symbol.dispose]();
    running = undefined;
  });

  /** Fake registry + endpoint, and this side's executor started against them with the fake AWS credentials. */
  function start(prepare: (registry: FakeRegistry, direct: FakeDirect) => void = () => {}, aws: Record<string, string> = FAKE_AWS): Setup {
    const direct = new FakeDirect();
    const registry = startFakeRegistry({ rendezvousUrl: direct.url(ENDPOINT_PATH) });
    prepare(registry, direct);
    const home = tempDir("execbox-direct-home-");
    const { CODEX_API_KEY: _, ...env } = process.env;
    const executor = spawnExecutor(
      [...command, "--remote", registry.url, "--environment-id", "env-1", "--remote-transport", "direct", "--aws-sigv4"],
      { ...env, ...aws, HOME: home.path, CODEX_HOME: home.path },
    );
    running = { setup: { registry, direct, executor }, home };
    return running.setup;
  }

  /** Registration must verify: SigV4 recomputed over its method, URL, content-type and body at its own x-amz-date. */
  function registrationSignatureOk(registry: FakeRegistry, sessionToken?: string): boolean {
    const [reg] = registry.requestsTo("direct/register");
    const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(reg!.headers["x-amz-date"] ?? "")!;
    const when = new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`);
    const scope = sessionToken ? { ...FAKE_AWS_SCOPE, credentials: { ...FAKE_AWS_SCOPE.credentials, sessionToken } } : FAKE_AWS_SCOPE;
    const url = new URL(`http://${reg!.headers.host}${reg!.path}`);
    return signV4({ method: "POST", url, headers: { "content-type": "application/json" }, body: reg!.body }, scope, when).authorization === reg!.headers.authorization;
  }

  async function echo(harness: DirectHarness, dirUri: string, text: string): Promise<void> {
    await harness.ok("process/start", { processId: `echo-${text}`, argv: ["echo", text], cwd: dirUri, env: ENV, tty: false });
    await harness.processDone(`echo-${text}`);
    expect(harness.output(`echo-${text}`).toString()).toBe(`${text}\n`);
  }

  describe(`direct transport: ${side}`, () => {
    test("registers with SigV4 over content-type;host;x-amz-date, then dials the returned URL signed over host;x-amz-date", async () => {
      const { registry, direct } = start();
      await direct.harness(0);
      const [reg] = registry.requestsTo("direct/register");
      expect(JSON.parse(reg!.body)).toEqual({ transport: "direct_jsonrpc_v1" });
      expect(reg!.headers.authorization).toStartWith(
        `AWS4-HMAC-SHA256 Credential=AKIDFAKEDIRECT/${reg!.headers["x-amz-date"]!.slice(0, 8)}/eu-west-3/execute-api/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=`,
      );
      expect(registrationSignatureOk(registry)).toBe(true);
      expect(direct.upgrades.map((u) => [u.path, u.signatureOk, u.status])).toEqual([[ENDPOINT_PATH, true, 101]]);
      expect(registry.requests.map((r) => r.endpoint)).toEqual(["direct/register"]);
    });

    test("AWS_SESSION_TOKEN: x-amz-security-token is sent and signed on the registration and the upgrade", async () => {
      const { registry, direct } = start(undefined, { ...FAKE_AWS, AWS_SESSION_TOKEN: "fake-session-token" });
      await direct.harness(0);
      const [reg] = registry.requestsTo("direct/register");
      expect([reg!.headers["x-amz-security-token"], direct.upgrades[0]!.headers["x-amz-security-token"]]).toEqual(["fake-session-token", "fake-session-token"]);
      expect(reg!.headers.authorization).toContain("SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, ");
      expect(registrationSignatureOk(registry, "fake-session-token")).toBe(true);
      expect(direct.upgrades.map((u) => [u.signatureOk, u.status])).toEqual([[true, 101]]);
    });

    test("one JSON-RPC session on text frames: echo, 300 KiB each way, and the reference's -32600 text for bad JSON", async () => {
      const { direct } = start();
      using dir = tempDir();
      const harness = await direct.harness(0);
      await harness.initialize();
      await echo(harness, dir.uri, "hi");
      const data = Buffer.alloc(300 * 1024, "abcdefgh").toString("base64");
      expect(await harness.ok("fs/writeFile", { path: `${dir.uri}/big.bin`, dataBase64: data })).toEqual({});
      expect(await harness.ok("fs/readFile", { path: `${dir.uri}/big.bin` })).toEqual({ dataBase64: data });
      harness.sendRaw("{not json");
      const error = await harness.waitFor((f) => f.id === -1);
      // The reference names the endpoint without its query (which may carry a signature).
      expect(error).toEqual({
        error: { code: -32600, message: `failed to parse websocket JSON-RPC message from direct exec-server websocket ${direct.url("/direct/env-1")}: key must be a string at line 1 column 2` },
        id: -1,
      });
      expect([harness.closed, harness.binaryFrames]).toEqual([false, 0]);
    });

    test("a notification before initialize: the session is dropped without a close frame (1006), as over --listen; the executor dials again", async () => {
      const { direct } = start();
      const harness = await direct.harness(0);
      harness.notify("initialized", {});
      await harness.waitClosed();
      expect(harness.closeCode).toBe(1006);
      const next = await direct.harness(1);
      expect((await next.initialize()).sessionId).toMatch(/^[0-9a-f-]{36}$/);
    });

    test("after the harness closes the socket the same URL is dialled again (signature valid again); the detached session resumes there", async () => {
      const { registry, direct } = start();
      using dir = tempDir();
      await direct.harness(0);
      expect(await resumeOnNextSocket(direct, dir.uri)).toEqual({ sameSession: true, output: "before\nafter-x\n" });
      expect(direct.upgrades.map((u) => [u.path, u.signatureOk])).toEqual([
        [ENDPOINT_PATH, true],
        [ENDPOINT_PATH, true],
      ]);
      expect(registry.requestsTo("direct/register").length).toBe(1);
    });

    test("409 on the upgrade registers again, then dials; 503 is retried on the same URL", async () => {
      const { registry, direct } = start((_, direct) => direct.refuse(409, 503));
      using dir = tempDir();
      const harness = await direct.harness(0);
      await harness.initialize();
      await echo(harness, dir.uri, "later");
      expect(direct.upgrades.map((u) => u.status)).toEqual([409, 503, 101]);
      expect(registry.requestsTo("direct/register").length).toBe(2);
    });

    test("403 on the upgrade: exit 1, not retried", async () => {
      const { direct, executor } = start((_, direct) => direct.refuse(403));
      expect(await executor.proc.exited).toBe(1);
      expect(direct.upgrades.map((u) => u.status)).toEqual([403]);
      // Same outcome, each executor's own words (execbox never prints the URL).
      const firstError = executor.stderr().split("\n").find((l) => l.startsWith("Error: "));
      expect(firstError).toBe(
        side === "reference"
          ? `Error: failed to connect to exec-server websocket \`${direct.url("/direct/env-1")}\`: HTTP error: 403 Forbidden`
          : "Error: direct exec-server refused the WebSocket upgrade with HTTP 403; not retrying",
      );
    });

    test("registration_conflict at direct/register is fatal (no retry, unlike noise registration): exit 1", async () => {
      const { registry, executor } = start((registry) => registry.script("direct/register", answers.conflict()));
      expect(await executor.proc.exited).toBe(1);
      expect(registry.requestsTo("direct/register").length).toBe(1);
      expect(executor.stderr().split("\n").find((l) => l.startsWith("Error: "))).toBe(
        "Error: environment registry request failed (503 Service Unavailable, registration_conflict): environment is busy",
      );
    });
  });
}

if (REFERENCE) directSuite("reference", [REFERENCE, "exec-server"]);
else test.skip("direct transport: reference (not installed: bun run reference)", () => {});
directSuite("execbox", execboxCommand());
