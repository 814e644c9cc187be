/**
 * A fake direct-transport endpoint (remote.md §7) on 127.0.0.1:0: a WebSocket
 * server that checks each upgrade's SigV4 signature (over `host;x-amz-date`,
 * with the fake credentials below), can refuse upgrades with scripted HTTP
 * statuses, and plays the harness on every socket it accepts (a RawClient:
 * the harness speaks first). Stop it with `stop()`.
 */
import { RawClient } from "./rpc-client.ts";
import { waitUntil } from "./wait.ts";
import { signV4, type SigV4Scope } from "../../src/remote/sigv4.ts";

/** Fake AWS credentials for the executor's environment; the secret must never appear in its output. */
export const FAKE_AWS = { AWS_ACCESS_KEY_ID: "AKIDFAKEDIRECT", AWS_SECRET_ACCESS_KEY: "fake-secret-direct-0123456789", AWS_REGION: "eu-west-3" };
/** The scope the fake credentials sign in (what the endpoint and a test recompute signatures with). */
export const FAKE_AWS_SCOPE: SigV4Scope = {
  credentials: { accessKeyId: FAKE_AWS.AWS_ACCESS_KEY_ID, secretAccessKey: FAKE_AWS.AWS_SECRET_ACCESS_KEY },
  region: FAKE_AWS.AWS_REGION,
  service: "execute-api",
};

/** The harness end of one accepted socket. */
export class DirectHarness extends RawClient {
  binaryFrames = 0;

  constructor(send: (text: string) => void, close: () => void) {
    super(send, close);
  }

  /** @internal */
  deliver(text: string): void {
    this["onText"](text);
  }

  /** @internal */
  ended(code: number): void {
    this["onClose"](code);
  }
}

export type Upgrade = { path: string; headers: Record<string, string>; signatureOk: boolean; status: number };

type Data = { harness: DirectHarness };

export class FakeDirect {
  readonly upgrades: Upgrade[] = [];
  readonly harnesses: DirectHarness[] = [];
  private readonly refusals: number[] = [];
  private readonly server: Bun.Server<Data>;

  constructor() {
    this.server = Bun.serve<Data>({
      hostname: "127.0.0.1",
      port: 0,
      fetch: (req, server) => this.upgrade(req, server),
      websocket: {
        open: (ws) => {
          ws.data.harness = new DirectHarness(
            (text) => ws.send(text),
            () => ws.close(),
          );
          this.harnesses.push(ws.data.harness);
        },
        message: (ws, message) => {
          if (typeof message !== "string") ws.data.harness.binaryFrames++;
          ws.data.harness.deliver(typeof message === "string" ? message : new TextDecoder().decode(message));
        },
        close: (ws, code) => ws.data.harness.ended(code),
      },
    });
  }

  url(path = "/direct"): string {
    return `ws://127.0.0.1:${this.server.port}${path}`;
  }

  /** The next upgrades are answered with these statuses, in order (then accepted). */
  refuse(...statuses: number[]): this {
    this.refusals.push(...statuses);
    return this;
  }

  async harness(index: number, timeoutMs = 15_000): Promise<DirectHarness> {
    await waitUntil(() => this.harnesses.length > index, timeoutMs, `direct socket #${index + 1}`);
    return this.harnesses[index]!;
  }

  stop(): void {
    void this.server.stop(true);
  }

  private upgrade(req: Request, server: Bun.Server<Data>): Response | undefined {
    const url = new URL(req.url);
    const headers = Object.fromEntries(req.headers);
    const signatureOk = checkSignature(url.pathname + url.search, headers);
    const status = signatureOk ? (this.refusals.shift() ?? 101) : 403;
    this.upgrades.push({ path: url.pathname + url.search, headers, signatureOk, status });
    if (status !== 101) return new Response(`refused with ${status}`, { status });
    // The harness is made in `open`, once the socket exists.
    if (!server.upgrade(req, { data: {} as Data })) return new Response("not a WebSocket upgrade", { status: 400 });
    return undefined;
  }
}

/**
 * The request's Authorization is exactly what SigV4 over `host;x-amz-date`
 * (plus `x-amz-security-token` when the executor has a session token) gives
 * for a bodiless GET at its x-amz-date.
 */
function checkSignature(pathAndQuery: string, headers: Record<string, string>): boolean {
  const amzDate = headers["x-amz-date"] ?? "";
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  if (!m) return false;
  const when = new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`);
  const url = new URL(`ws://${headers.host}${pathAndQuery}`);
  const token = headers["x-amz-security-token"];
  const scope = token ? { ...FAKE_AWS_SCOPE, credentials: { ...FAKE_AWS_SCOPE.credentials, sessionToken: token } } : FAKE_AWS_SCOPE;
  const expected = signV4({ method: "GET", url, headers: {}, body: "" }, scope, when);
  const signedHeaders = token ? "host;x-amz-date;x-amz-security-token" : "host;x-amz-date";
  return headers.authorization === expected.authorization && expected.authorization!.includes(`SignedHeaders=${signedHeaders},`);
}

/**
 * Detach and resume through the endpoint: starts a process that waits for a
 * line on socket #1's session, closes that socket mid-process, resumes the
 * session on the next socket the executor dials, feeds the line there and
 * returns whether the session id was kept and everything `process/read` holds.
 */
export async function resumeOnNextSocket(direct: FakeDirect, cwdUri: string): Promise<{ sameSession: boolean; output: string }> {
  const first = await direct.harness(direct.harnesses.length - 1);
  const { sessionId } = await first.initialize();
  const start = { processId: "keep", argv: ["sh", "-c", "echo before; read x; echo after-$x"], cwd: cwdUri, env: { PATH: "/usr/bin:/bin" }, tty: false, pipeStdin: true };
  await first.ok("process/start", start);
  await first.waitFor((f) => f.method === "process/output");
  const next = direct.harnesses.length;
  first.close();
  const second = await direct.harness(next);
  const resumed = await second.initialize("t", sessionId);
  await second.ok("process/write", { processId: "keep", chunk: Buffer.from("x\n").toString("base64"), writeId: "1" });
  await second.processDone("keep");
  const read = await second.ok("process/read", { processId: "keep" });
  const output = read.chunks.map((ch: { chunk: string }) => Buffer.from(ch.chunk, "base64").toString()).join("");
  return { sameSession: resumed.sessionId === sessionId, output };
}
