/**
 * Drives the real Codex CLI offline against an executor: locates the CLI binary `bun run reference`
 * installs (each version execbox is checked against), runs a loopback stand-in for the OpenAI Responses API (SSE wire
 * format), writes an isolated CODEX_HOME, and runs `codex exec` with a hard deadline.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "bun:test";
import { serveLoopback } from "./loopback-http.ts";
import { NEWEST_REFERENCE, REFERENCE_VERSIONS, type ReferenceLocation, locateReference } from "./reference-bin.ts";

// ---------------------------------------------------------------------------------------------
// Locating the CLI

export type CodexLocation = ReferenceLocation;

/**
 * The native codex binary of `version`, as `bun run reference` installs it
 * (the npm wrapper `bin/codex.js` needs node and execve()s the native binary;
 * spawning the native binary directly lets the test own the process it
 * kills). Never throws: failures come back as a reason to skip.
 */
export function locateCodex(version: string = NEWEST_REFERENCE): CodexLocation {
  const found = locateReference(version);
  if (!found.ok) return found;
  const probe = Bun.spawnSync([found.path, "--version"], { stdout: "pipe", stderr: "pipe", stdin: "ignore", timeout: 10_000 });
  const out = probe.stdout.toString().trim();
  if (!probe.success || out !== `codex-cli ${version}`) {
    return { ok: false, reason: `\`${found.path} --version\` said ${JSON.stringify(out)} (exit ${probe.exitCode}): ${probe.stderr.toString().trim()}` };
  }
  return found;
}

/**
 * Declares `suite`'s tests once per Codex CLI version execbox is checked
 * against. A version that is not installed is a skipped test named `what`,
 * except in CI, which must not pass by skipping what it is meant to check.
 */
export function forEachCodexCli(what: string, suite: (codex: Extract<CodexLocation, { ok: true }>, version: string) => void): void {
  for (const version of REFERENCE_VERSIONS) {
    const codex = locateCodex(version);
    if (!codex.ok) {
      if (process.env.CI) throw new Error(`CI needs the Codex CLI ${version}: ${codex.reason}`);
      test.skip(`codex ${version} ${what} (skipped: ${codex.reason})`, () => {});
      continue;
    }
    suite(codex, version);
  }
}

/**
 * A slug from the CLI's bundled model catalog that offers both `exec_command` (unified exec) and
 * the freeform `apply_patch` tool. With a slug missing from the catalog the CLI offers no
 * `apply_patch` tool.
 */
export function pickBundledModel(codex: string, codexHome: string): string {
  const res = Bun.spawnSync([codex, "debug", "models", "--bundled"], {
    stdout: "pipe",
    stderr: "pipe",
    stdin: "ignore",
    timeout: 10_000,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: codexHome, CODEX_HOME: codexHome },
  });
  if (!res.success) throw new Error(`codex debug models --bundled failed: ${res.stderr.toString()}`);
  const catalog = JSON.parse(res.stdout.toString()) as {
    models: { slug: string; shell_type?: string; apply_patch_tool_type?: string | null }[];
  };
  const usable = catalog.models.filter((m) => m.shell_type === "unified_exec" && m.apply_patch_tool_type === "freeform");
  const chosen = usable.find((m) => m.slug === "gpt-5.5") ?? usable[0];
  if (!chosen) throw new Error("no bundled model offers unified_exec + freeform apply_patch");
  return chosen.slug;
}

// ---------------------------------------------------------------------------------------------
// Fake Responses API

/** An output item as the Responses API streams it (message, function_call, custom_tool_call…). */
export type ResponseItem = Record<string, unknown> & { type: string };
/** A request body the CLI posted to /v1/responses (only the parts the tests read are typed). */
export type ResponsesRequest = { model?: string; input: ResponseItem[]; tools?: { type: string; name?: string }[] } & Record<string, unknown>;

export type FakeResponsesApi = {
  baseUrl: string;
  /** Bodies of every POST /v1/responses, in arrival order. */
  requests: ResponsesRequest[];
  /** Anything else the CLI asked for ("METHOD /path"); answered 404. */
  unexpected: string[];
  [Symbol.asyncDispose](): Promise<void>;
};

/**
 * A loopback Responses API. Request N (0-based) is answered with `turns[N]`'s items as one
 * streamed response: response.created, output_item.added/done per item, response.completed with
 * usage. Requests beyond the script get an assistant message saying so (and are recorded).
 */
export function startFakeResponsesApi(turns: ResponseItem[][]): FakeResponsesApi {
  const requests: ResponsesRequest[] = [];
  const http = serveLoopback(async (req, url) => {
    if (req.method !== "POST" || url.pathname !== "/v1/responses") return undefined;
    const body = (await req.json()) as ResponsesRequest;
    const n = requests.push(body) - 1;
    const items = turns[n] ?? [assistantMessage(`fake model: no scripted turn #${n + 1}`, `msg_extra_${n}`)];
    return new Response(sseBody(`resp_${n + 1}`, items), {
      headers: { "content-type": "text/event-stream", "cache-control": "no-cache" },
    });
  });
  return { baseUrl: `${http.origin}/v1`, requests, unexpected: http.unexpected, [Symbol.asyncDispose]: http.stop };
}

function sseBody(responseId: string, items: ResponseItem[]): string {
  const events: string[] = [];
  const emit = (event: Record<string, unknown> & { type: string }) =>
    events.push(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
  emit({ type: "response.created", response: { id: responseId } });
  items.forEach((item, outputIndex) => {
    emit({ type: "response.output_item.added", output_index: outputIndex, item });
    emit({ type: "response.output_item.done", output_index: outputIndex, item });
  });
  emit({
    type: "response.completed",
    response: {
      id: responseId,
      usage: { input_tokens: 42, input_tokens_details: null, output_tokens: 7, output_tokens_details: null, total_tokens: 49 },
    },
  });
  return events.join("");
}

export function assistantMessage(text: string, id = "msg_1"): ResponseItem {
  return { type: "message", role: "assistant", id, status: "completed", content: [{ type: "output_text", text, annotations: [] }] };
}

export function execCommandCall(callId: string, args: { cmd: string; workdir?: string; yield_time_ms?: number }): ResponseItem {
  return { type: "function_call", id: `fc_${callId}`, call_id: callId, name: "exec_command", status: "completed", arguments: JSON.stringify(args) };
}

/** A client-executed `tool_search` call: the CLI answers with the deferred tools (e.g. apps tools) that match. */
export function toolSearchCall(callId: string, query: string): ResponseItem {
  return { type: "tool_search_call", id: `tsc_${callId}`, call_id: callId, execution: "client", status: "completed", arguments: { query, limit: 1 } };
}

/** A call of a tool in a namespace (as `tool_search` returns them: `mcp__codex_apps__<connector>` / `_<tool>`). */
export function namespacedCall(callId: string, namespace: string, name: string, args: Record<string, unknown>): ResponseItem {
  return { type: "function_call", id: `fc_${callId}`, call_id: callId, namespace, name, status: "completed", arguments: JSON.stringify(args) };
}

export function applyPatchCall(callId: string, patch: string): ResponseItem {
  return { type: "custom_tool_call", id: `ctc_${callId}`, call_id: callId, name: "apply_patch", status: "completed", input: patch };
}

/** The `output` text of the tool result for `callId` in a request's input (function or custom tool). */
export function toolOutput(request: ResponsesRequest | undefined, callId: string): string | undefined {
  const item = request?.input.find(
    (i) => (i.type === "function_call_output" || i.type === "custom_tool_call_output") && i.call_id === callId,
  );
  if (!item) return undefined;
  const out = item.output;
  if (typeof out === "string") return out;
  // Content-item form: [{type:"input_text", text}, …]
  if (Array.isArray(out)) return out.map((c) => (c as { text?: string }).text ?? "").join("");
  return JSON.stringify(out);
}

// ---------------------------------------------------------------------------------------------
// CODEX_HOME and running `codex exec`

export const FAKE_KEY_ENV = "EXECBOX_E2E_FAKE_API_KEY";

/** More config.toml for one test: keys before any table, `[features]` switches, and tables after the rest. */
export type CodexConfigExtra = { topLevel?: string; features?: Record<string, boolean>; tables?: string };

/** An isolated CODEX_HOME: loopback provider, no retries, no approvals (unless `approvalPolicy` says), nothing that reaches other hosts. */
export function writeCodexHome(codexHome: string, opts: { baseUrl: string; model: string; extra?: CodexConfigExtra; approvalPolicy?: string }): void {
  // Off unless a test turns them on: each reaches hosted services (apps: the ChatGPT backend).
  const switches = { plugins: false, apps: false, remote_plugin: false, tool_suggest: false, ...opts.extra?.features };
  const features = Object.entries(switches).map(([k, v]) => `${k} = ${v}\n`).join("");
  mkdirSync(codexHome, { recursive: true });
  const config = `
model = "${opts.model}"
model_provider = "fake"
approval_policy = "${opts.approvalPolicy ?? "never"}"
sandbox_mode = "danger-full-access"
check_for_update_on_startup = false
web_search = "disabled"
${opts.extra?.topLevel ?? ""}
[model_providers.fake]
name = "fake"
base_url = "${opts.baseUrl}"
wire_api = "responses"
env_key = "${FAKE_KEY_ENV}"
request_max_retries = 0
stream_max_retries = 0
stream_idle_timeout_ms = 20000

[features]
${features}
[analytics]
enabled = false

[feedback]
enabled = false
${opts.extra?.tables ?? ""}`;
  writeFileSync(join(codexHome, "config.toml"), config);
}

/**
 * `$CODEX_HOME/environments.toml` with one remote environment, the default, and no local one
 * (it wins over CODEX_EXEC_SERVER_URL). `auth_bearer_token` is sent as `Authorization: Bearer …`
 * on the upgrade (probed: a wrong one gets execbox's 401).
 */
export function writeEnvironmentsToml(codexHome: string, env: { id: string; url: string; bearerToken?: string }): void {
  const token = env.bearerToken === undefined ? "" : `auth_bearer_token = ${JSON.stringify(env.bearerToken)}\n`;
  const toml = `default = "${env.id}"\ninclude_local = false\n\n[[environments]]\nid = "${env.id}"\nurl = ${JSON.stringify(env.url)}\n${token}`;
  writeFileSync(join(codexHome, "environments.toml"), toml);
}

export type CodexRun = { exitCode: number | null; signal: string | number | null; timedOut: boolean; stdout: string; stderr: string; ms: number };

/**
 * Runs `codex exec --strict-config --skip-git-repo-check <prompt>` with CODEX_EXEC_SERVER_URL =
 * `execServerUrl` and a minimal environment (no inherited API keys or proxies). `--strict-config`
 * makes a mistyped key in config.toml an error instead of a silently-ignored setting. The CLI runs
 * in its own process group (it forks helpers such as `lsb_release`); the whole group is SIGKILLed
 * at the deadline and again on the way out, whatever happens.
 */
export async function runCodexExec(opts: {
  codex: string;
  codexHome: string;
  home: string;
  cwd: string;
  /** CODEX_EXEC_SERVER_URL; leave out when environments.toml names the executor. */
  execServerUrl?: string;
  prompt: string;
  timeoutMs: number;
  /** More variables for the CLI (e.g. SSL_CERT_FILE). */
  env?: Record<string, string>;
  /** A command the CLI's argv is appended to (e.g. one entering a private mount namespace). */
  wrap?: string[];
}): Promise<CodexRun> {
  const started = performance.now();
  const proc = Bun.spawn([...(opts.wrap ?? []), opts.codex, "exec", "--strict-config", "--skip-git-repo-check", opts.prompt], {
    cwd: opts.cwd,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    detached: true,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: opts.home,
      CODEX_HOME: opts.codexHome,
      ...(opts.execServerUrl === undefined ? {} : { CODEX_EXEC_SERVER_URL: opts.execServerUrl }),
      [FAKE_KEY_ENV]: "sk-fake-loopback",
      NO_COLOR: "1",
      ...opts.env,
    },
  });
  const killGroup = () => {
    try {
      process.kill(-proc.pid, "SIGKILL");
    } catch {
      // group already gone
    }
  };
  let timedOut = false;
  const deadline = setTimeout(() => {
    timedOut = true;
    killGroup();
  }, opts.timeoutMs);
  try {
    const [stdout, stderr] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    return { exitCode: proc.exitCode, signal: proc.signalCode, timedOut, stdout, stderr, ms: Math.round(performance.now() - started) };
  } finally {
    clearTimeout(deadline);
    killGroup();
  }
}

/** Reads a file if it exists (for assertions that should fail with a value, not an exception). */
export function readIfExists(path: string): string | null {
  return existsSync(path) ? readFileSync(path, "utf8") : null;
}

/**
 * The `net` permissions profile that makes the CLI send `process/start.networkProxy`
 * (codex-cli-network-proxy.test.ts's header): read-only root, full mode, SOCKS5, local binding,
 * and these domains.
 */
export function networkProfile(domains: Record<string, "allow" | "deny">): string {
  const lines = Object.entries(domains).map(([host, access]) => `"${host}" = "${access}"\n`).join("");
  return `
[permissions.net.filesystem]
":root" = "read"

[permissions.net.network]
enabled = true
mode = "full"
enable_socks5 = true
allow_local_binding = true

[permissions.net.network.domains]
${lines}`;
}
