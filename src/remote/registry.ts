/**
 * The environment registry's client (remote.md §2): `register` (noise
 * executor, with the `registration_conflict` retry), `validate` (harness-key
 * authorization, a typed outcome), `connect` (harness side) and
 * `directRegister` (direct transport). Bodies are the schemas in schemas.ts.
 */
import {
  REGISTRATION_CONFLICT_BASE_DELAY_MS,
  REGISTRATION_CONFLICT_JITTER,
  REGISTRATION_CONFLICT_MAX_DELAY_MS,
} from "./limits.ts";
import { RegistryError } from "./registry-error.ts";
import { type RegistryTarget, expectOk, httpError, postJson } from "./registry-http.ts";
import {
  ConnectRequest,
  type ConnectResponse,
  ConnectResponse as ConnectResponseSchema,
  DIRECT_TRANSPORT,
  DirectRegisterRequest,
  type DirectRegisterResponse,
  DirectRegisterResponse as DirectRegisterResponseSchema,
  type PublicKeyObject,
  RegisterRequest,
  type RegisterResponse,
  RegisterResponse as RegisterResponseSchema,
  SECURITY_PROFILE,
  ValidateRequest,
  ValidateResponse,
} from "./schemas.ts";

export type { RegistryTarget } from "./registry-http.ts";

/** One `POST …/register` (no retry). The executor's key object goes in as given. */
export async function register(target: RegistryTarget, executorPublicKey: PublicKeyObject, signal?: AbortSignal): Promise<RegisterResponse> {
  const body = RegisterRequest.parse({ security_profile: SECURITY_PROFILE, executor_public_key: executorPublicKey });
  const reply = await postJson(target, "register", body, {}, signal);
  // The reference refuses a reply that echoes a stdin bearer (anywhere in the body).
  if (reply.status >= 200 && reply.status < 300 && target.auth.kind === "bearer" && target.auth.fromStdin && reply.text.includes(target.auth.token)) {
    throw protocolError("invalid environment registry executor registration response");
  }
  const answer = expectOk(reply, RegisterResponseSchema);
  checkEnvironment(target, answer.environment_id);
  if (answer.security_profile !== SECURITY_PROFILE) {
    throw protocolError(`environment registry returned unsupported security profile \`${answer.security_profile}\``);
  }
  return answer;
}

export type RetryOptions = {
  signal?: AbortSignal;
  /** Injected for tests: a uniform draw in [0, 1), drawn once per delay. */
  random?: () => number;
  /** Injected for tests; default Bun.sleep (aborted by `signal`). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Called before each wait, e.g. to log it. */
  onConflict?: (attempt: number, delayMs: number) => void;
};

/**
 * `register`, retried while the registry answers 503 `registration_conflict`
 * (another executor still holds the environment), forever unless `signal`
 * aborts; any other failure is thrown (the process exits 1).
 */
export async function registerWithRetry(target: RegistryTarget, executorPublicKey: PublicKeyObject, options: RetryOptions = {}): Promise<RegisterResponse> {
  const random = options.random ?? Math.random;
  const sleep = options.sleep ?? abortableSleep;
  for (let attempt = 0; ; attempt++) {
    try {
      return await register(target, executorPublicKey, options.signal);
    } catch (e) {
      if (!(e instanceof RegistryError && e.status === 503 && e.code === "registration_conflict")) throw e;
      const delay = conflictDelayMs(attempt, random());
      options.onConflict?.(attempt, delay);
      await sleep(delay, options.signal);
    }
  }
}

/** The wait after the `attempt`-th conflict (0-based): 0.5 s doubling to 5 s, times 1 + jitter·draw. */
export function conflictDelayMs(attempt: number, draw: number): number {
  const base = Math.min(REGISTRATION_CONFLICT_BASE_DELAY_MS * 2 ** Math.min(attempt, 30), REGISTRATION_CONFLICT_MAX_DELAY_MS);
  return Math.round(base * (1 + REGISTRATION_CONFLICT_JITTER * draw));
}

/**
 * What the registry said about a harness key (§2.4):
 * - `valid`: complete the handshake;
 * - `invalid`: 2xx `{"valid":false}`; reset the stream;
 * - `failed`: any other non-2xx, no answer, or a malformed one; reset the stream;
 * - `executor_rejected`: 401/403, the registry refused the *executor's*
 *   credentials; answer Noise message 2 with REGISTRY_AUTH_REJECTED_MARKER.
 */
export type ValidateOutcome =
  | { kind: "valid" }
  | { kind: "invalid" }
  | { kind: "failed"; error: RegistryError }
  | { kind: "executor_rejected"; error: RegistryError };

/** `POST …/validate` with `x-codex-noise-stream-id`. Never throws a RegistryError: every answer is an outcome. */
export async function validate(target: RegistryTarget, streamId: string, request: ValidateRequest, signal?: AbortSignal): Promise<ValidateOutcome> {
  try {
    const body = ValidateRequest.parse(request);
    const reply = await postJson(target, "validate", body, { "x-codex-noise-stream-id": streamId }, signal);
    if (reply.status === 401 || reply.status === 403) return { kind: "executor_rejected", error: httpError(reply) };
    return expectOk(reply, ValidateResponse).valid ? { kind: "valid" } : { kind: "invalid" };
  } catch (e) {
    if (e instanceof RegistryError) return { kind: "failed", error: e };
    throw e;
  }
}

/** `POST …/connect` (harness side, §2.5): the bundle a harness needs to open one stream. */
export async function connect(target: RegistryTarget, harnessPublicKey: PublicKeyObject, signal?: AbortSignal): Promise<ConnectResponse> {
  const body = ConnectRequest.parse({ harness_public_key: harnessPublicKey });
  const answer = expectOk(await postJson(target, "connect", body, {}, signal), ConnectResponseSchema);
  checkEnvironment(target, answer.environment_id);
  if (answer.security_profile !== SECURITY_PROFILE) {
    throw protocolError(`environment registry returned unsupported security profile \`${answer.security_profile}\``);
  }
  for (const field of ["url", "executor_registration_id", "harness_key_authorization"] as const) {
    if (answer[field].trim() === "") throw protocolError(`environment registry returned a blank ${field}`);
  }
  return answer;
}

/** `POST …/direct/register` (§2.6): the WebSocket URL of a direct session. */
export async function directRegister(target: RegistryTarget, signal?: AbortSignal): Promise<DirectRegisterResponse> {
  const body = DirectRegisterRequest.parse({ transport: DIRECT_TRANSPORT });
  const answer = expectOk(await postJson(target, "direct/register", body, {}, signal), DirectRegisterResponseSchema);
  checkEnvironment(target, answer.environment_id);
  if (answer.transport !== DIRECT_TRANSPORT) throw protocolError(`environment registry returned unsupported transport \`${answer.transport}\``);
  for (const field of ["registration_id", "url"] as const) {
    if (answer[field].trim() === "") throw protocolError(`environment registry returned a blank ${field}`);
  }
  let url: URL;
  try {
    url = new URL(answer.url);
  } catch {
    throw protocolError("environment registry returned an invalid direct url");
  }
  if (url.protocol !== "wss:" && !(url.protocol === "ws:" && isLoopbackHost(url.hostname))) {
    throw protocolError("direct exec-server url must use wss unless its host is loopback");
  }
  return answer;
}

/** 127.0.0.0/8, ::1 and localhost: where plain http/ws is allowed (§2.1). */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  return host === "localhost" || host === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

function checkEnvironment(target: RegistryTarget, returned: string): void {
  if (returned !== target.environmentId.trim()) throw protocolError("environment registry returned a different environment id");
}

function protocolError(message: string): RegistryError {
  return new RegistryError("protocol", `exec-server protocol error: ${message}`);
}

function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
