/**
 * A fake environment registry (remote.md §2) on 127.0.0.1:0: the real
 * endpoints and wire format, scriptable answers per endpoint (first scripted,
 * first used; then the endpoint's default success), gzip/zstd bodies, and a
 * record of every request for assertions. Disposing stops it.
 */
import { gzipSync, zstdCompressSync } from "node:zlib";
import { DIRECT_TRANSPORT, SECURITY_PROFILE } from "../../src/remote/schemas.ts";

export type Endpoint = "register" | "validate" | "connect" | "direct/register";

export type RecordedRequest = {
  method: string;
  endpoint: Endpoint | undefined;
  /** As the client sent it (still percent-encoded). */
  path: string;
  environmentId: string;
  headers: Record<string, string>;
  body: string;
};

/** One scripted answer. `body` is sent as JSON unless it is a string; `encoding` compresses it. */
export type Answer = { status: number; body?: unknown; encoding?: "gzip" | "zstd"; headers?: Record<string, string> };

export const answers = {
  conflict: (): Answer => ({ status: 503, body: { error: { code: "registration_conflict", message: "environment is busy" } } }),
  error: (status: number, code?: string, message?: string): Answer => ({ status, body: { error: { code, message } } }),
  raw: (status: number, body: string): Answer => ({ status, body }),
  json: (body: unknown, status = 200): Answer => ({ status, body }),
};

export type FakeRegistryOptions = {
  /** The rendezvous URL `register` returns (the executor's side). */
  rendezvousUrl?: string;
  /** The URL `connect` returns (the harness side); default `rendezvousUrl`. */
  harnessUrl?: string;
  executorRegistrationId?: string;
  /** What `connect` returns while `bindAuthorizations` is off. */
  harnessKeyAuthorization?: string;
  /**
   * Off (default): `connect` returns `harnessKeyAuthorization` and `validate`
   * answers `{"valid":true}` to anything. On: like the real registry, `connect`
   * issues a fresh authorization bound to the harness key it was asked for, and
   * `validate` is true only for that authorization with that key and this
   * registry's registration id.
   */
  bindAuthorizations?: boolean;
};

export class FakeRegistry {
  readonly requests: RecordedRequest[] = [];
  private readonly scripts = new Map<Endpoint, Answer[]>();
  /** The last key an executor registered: `connect` hands it to harnesses. */
  executorPublicKey: unknown = null;
  /** With `bindAuthorizations`: authorization → the identity (`keyIdentity`) of the harness key it was issued for. */
  private readonly issued = new Map<string, string>();

  constructor(
    private readonly server: Bun.Server<undefined>,
    readonly options: Required<FakeRegistryOptions>,
  ) {}

  /** The base URL to pass as `--remote`. */
  get url(): string {
    return `http://127.0.0.1:${this.server.port}`;
  }

  /** Queues answers for `endpoint`, used once each in order before the default. */
  script(endpoint: Endpoint, ...list: Answer[]): this {
    this.scripts.set(endpoint, [...(this.scripts.get(endpoint) ?? []), ...list]);
    return this;
  }

  requestsTo(endpoint: Endpoint): RecordedRequest[] {
    return this.requests.filter((r) => r.endpoint === endpoint);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.server.stop(true);
  }

  /** @internal */
  async handle(req: Request): Promise<Response> {
    const url = new URL(req.url);
    const body = await req.text();
    const m = /^\/cloud\/environment\/([^/]+)\/(register|validate|connect|direct\/register)$/.exec(url.pathname);
    const endpoint = m?.[2] as Endpoint | undefined;
    const environmentId = m ? decodeURIComponent(m[1]!) : "";
    this.requests.push({ method: req.method, endpoint, path: url.pathname + url.search, environmentId, headers: Object.fromEntries(req.headers), body });
    if (!endpoint || req.method !== "POST") return respond(answers.error(404, "unknown_route", "no such endpoint"));
    const scripted = this.scripts.get(endpoint)?.shift();
    if (scripted) return respond(scripted);
    if (endpoint === "register") this.executorPublicKey = (JSON.parse(body) as { executor_public_key: unknown }).executor_public_key;
    return respond(answers.json(this.success(endpoint, environmentId, JSON.parse(body))));
  }

  /** Issues a fresh authorization bound to the harness key of a connect request. */
  private authorize(request: { harness_public_key?: unknown }): string {
    if (!this.options.bindAuthorizations) return this.options.harnessKeyAuthorization;
    const authorization = `hka-${crypto.randomUUID()}`;
    this.issued.set(authorization, keyIdentity(request.harness_public_key));
    return authorization;
  }

  private validAuthorization(request: { executor_registration_id?: unknown; harness_public_key?: unknown; harness_key_authorization?: unknown }): boolean {
    if (!this.options.bindAuthorizations) return true;
    if (request.executor_registration_id !== this.options.executorRegistrationId) return false;
    const auth = request.harness_key_authorization;
    return typeof auth === "string" && this.issued.get(auth) === keyIdentity(request.harness_public_key);
  }

  private success(endpoint: Endpoint, environmentId: string, request: Record<string, unknown>): unknown {
    const o = this.options;
    switch (endpoint) {
      case "register":
        return { environment_id: environmentId, url: o.rendezvousUrl, security_profile: SECURITY_PROFILE, executor_registration_id: o.executorRegistrationId };
      case "validate":
        return { valid: this.validAuthorization(request) };
      case "connect":
        return {
          environment_id: environmentId,
          url: o.harnessUrl,
          security_profile: SECURITY_PROFILE,
          executor_registration_id: o.executorRegistrationId,
          executor_public_key: this.executorPublicKey,
          harness_key_authorization: this.authorize(request),
        };
      case "direct/register":
        return { environment_id: environmentId, transport: DIRECT_TRANSPORT, registration_id: o.executorRegistrationId, url: o.rendezvousUrl };
    }
  }
}

/** A key object's fields in a fixed order (the two sides may serialize them in different orders). */
function keyIdentity(key: unknown): string {
  const k = (key ?? {}) as Record<string, unknown>;
  return JSON.stringify([k.suite, k.x25519_public_key, k.mlkem768_public_key]);
}

function respond(answer: Answer): Response {
  const text = typeof answer.body === "string" ? answer.body : answer.body === undefined ? "" : JSON.stringify(answer.body);
  const headers: Record<string, string> = { "content-type": "application/json", ...answer.headers };
  let payload: Uint8Array | string = text;
  if (answer.encoding) {
    payload = answer.encoding === "gzip" ? gzipSync(text) : zstdCompressSync(text);
    headers["content-encoding"] = answer.encoding;
  }
  return new Response(payload, { status: answer.status, headers });
}

export function startFakeRegistry(options: FakeRegistryOptions = {}): FakeRegistry {
  let registry: FakeRegistry | undefined;
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (req) => registry!.handle(req) });
  const rendezvousUrl = options.rendezvousUrl ?? `ws://127.0.0.1:${server.port}/rendezvous`;
  registry = new FakeRegistry(server, {
    rendezvousUrl,
    harnessUrl: options.harnessUrl ?? rendezvousUrl,
    executorRegistrationId: options.executorRegistrationId ?? "exreg-1",
    harnessKeyAuthorization: options.harnessKeyAuthorization ?? "harness-key-authorization-1",
    bindAuthorizations: options.bindAuthorizations ?? false,
  });
  return registry;
}
