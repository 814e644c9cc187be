/**
 * A loopback stand-in for the hosted ChatGPT services the Codex CLI uses for Codex Apps
 * (connectors), speaking their wire formats as the CLI's source and its upstream tests show them
 * (openai/codex codex-rs: `codex-api` `upload_openai_file`, `core` `mcp_openai_file`, and
 * `core/tests/common/apps_test_server.rs`):
 *
 * - the apps MCP server: streamable HTTP JSON-RPC (`initialize`, `notifications/initialized`,
 *   `tools/list`, `tools/call`) at `<chatgpt_base_url>/ps/mcp` (both CLIs; they sent it no
 *   Authorization header, only the upload and `/wham/settings/user` requests carry the login);
 * - file upload: `POST <base>/files` `{file_name, file_size, use_case:"codex", …}` →
 *   `{file_id, upload_url}`; `PUT <upload_url>` with the bytes (an Azure block blob upload:
 *   `x-ms-blob-type: BlockBlob`, exact Content-Length) → 201; `POST <base>/files/<id>/uploaded`
 *   `{}` → `{status:"success", download_url, file_name, mime_type, file_size_bytes}`.
 *
 * And the ChatGPT login those services need: `writeChatGptAuth` puts an `auth.json` with test
 * tokens in CODEX_HOME. The CLI decodes the JWTs' claims (account id, plan, expiry) but never
 * checks a signature; with a fresh `last_refresh` and an unexpired access token it asks no
 * token endpoint (CODEX_REFRESH_TOKEN_URL_OVERRIDE points here, so a refresh would show up in
 * `unexpected`).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { serveLoopback } from "./loopback-http.ts";

/** A tool as the apps MCP server lists it (`_meta` carries `openai/fileParams`, `connector_id`…). */
export type AppsTool = { name: string; description: string; inputSchema: Record<string, unknown>; _meta: Record<string, unknown> } & Record<string, unknown>;

/** One file the CLI uploaded, step by step as the fake saw it. */
export type FakeUpload = {
  fileId: string;
  /** The JSON body of `POST <base>/files`. */
  create: Record<string, unknown>;
  /** `authorization` and `chatgpt-account-id` of that request. */
  auth: { authorization: string | null; accountId: string | null };
  /** The PUT's body, exactly as received (null until the PUT arrives). */
  bytes: Uint8Array | null;
  /** The PUT's Content-Length and `x-ms-blob-type` headers. */
  put: { contentLength: string | null; blobType: string | null } | null;
  finalized: boolean;
};

export type FakeChatGpt = {
  /** `chatgpt_base_url` for config.toml. */
  baseUrl: string;
  /** Every JSON-RPC message posted to the apps MCP endpoint, in order. */
  mcp: { method?: string; id?: unknown; params?: Record<string, unknown> }[];
  uploads: FakeUpload[];
  /** Anything else ("METHOD /path"), answered 404. */
  unexpected: string[];
  [Symbol.asyncDispose](): Promise<void>;
};

const MCP_PATH = "/backend-api/ps/mcp";
/** Where CODEX_REFRESH_TOKEN_URL_OVERRIDE sends a token refresh; never expected. */
export const REFRESH_PATH = "/oauth/token";

export function startFakeChatGpt(tools: AppsTool[], mimeType = "application/octet-stream"): FakeChatGpt {
  const mcp: FakeChatGpt["mcp"] = [];
  const uploads: FakeUpload[] = [];
  const http = serveLoopback(async (req, url, origin) => {
    if (url.pathname === MCP_PATH) {
      // A server without a standalone SSE stream answers GET (and session DELETE) with 405 (MCP streamable HTTP).
      if (req.method !== "POST") return new Response(null, { status: 405 });
      return mcpAnswer((await req.json()) as FakeChatGpt["mcp"][number], mcp, tools);
    }
    if (req.method === "POST" && url.pathname === "/backend-api/files") {
      const fileId = `file_${uploads.length + 1}`;
      uploads.push({
        fileId,
        create: (await req.json()) as Record<string, unknown>,
        auth: { authorization: req.headers.get("authorization"), accountId: req.headers.get("chatgpt-account-id") },
        bytes: null,
        put: null,
        finalized: false,
      });
      return Response.json({ file_id: fileId, upload_url: `${origin}/upload/${fileId}` });
    }
    const put = url.pathname.match(/^\/upload\/(file_\d+)$/);
    const upload = uploads.find((u) => u.fileId === (put?.[1] ?? url.pathname.match(/^\/backend-api\/files\/(file_\d+)\/uploaded$/)?.[1]));
    if (upload && req.method === "PUT" && put) {
      upload.put = { contentLength: req.headers.get("content-length"), blobType: req.headers.get("x-ms-blob-type") };
      upload.bytes = new Uint8Array(await req.arrayBuffer());
      return new Response(null, { status: 201 });
    }
    if (upload && req.method === "POST" && upload.bytes) {
      upload.finalized = true;
      return Response.json({
        status: "success",
        download_url: `${origin}/download/${upload.fileId}`,
        file_name: upload.create.file_name,
        mime_type: mimeType,
        file_size_bytes: upload.bytes.length,
      });
    }
    return undefined;
  });
  return { baseUrl: `${http.origin}/backend-api`, mcp, uploads, unexpected: http.unexpected, [Symbol.asyncDispose]: http.stop };
}

function mcpAnswer(msg: FakeChatGpt["mcp"][number], log: FakeChatGpt["mcp"], tools: AppsTool[]): Response {
  log.push(msg);
  if (msg.id === undefined) return new Response(null, { status: 202 }); // a notification
  const reply = (result: unknown) => Response.json({ jsonrpc: "2.0", id: msg.id, result });
  switch (msg.method) {
    case "initialize":
      return reply({
        protocolVersion: msg.params?.protocolVersion,
        capabilities: { tools: { listChanged: true } },
        serverInfo: { name: "fake-codex-apps", version: "1.0.0" },
      });
    case "tools/list":
      return reply({ tools, nextCursor: null });
    case "tools/call":
      return reply({ content: [{ type: "text", text: `received ${JSON.stringify(msg.params?.arguments)}` }], isError: false });
    default:
      return Response.json({ jsonrpc: "2.0", id: msg.id, error: { code: -32601, message: `method not found: ${msg.method}` } });
  }
}

// ---------------------------------------------------------------------------------------------
// ChatGPT login

/** The account id the fake login carries (sent back as `ChatGPT-Account-ID`). */
export const TEST_ACCOUNT_ID = "acct_execbox_test";

/** An unsigned JWT (`alg: none`): the CLI only decodes the claims. */
function testJwt(claims: Record<string, unknown>): string {
  const part = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
  return `${part({ alg: "none", typ: "JWT" })}.${part(claims)}.unsigned`;
}

/** Writes `$CODEX_HOME/auth.json` for a ChatGPT login valid for a day; returns the access token. */
export function writeChatGptAuth(codexHome: string): string {
  const exp = Math.floor(Date.now() / 1000) + 86_400;
  const auth = { chatgpt_account_id: TEST_ACCOUNT_ID, chatgpt_plan_type: "pro", chatgpt_user_id: "user_execbox_test", user_id: "user_execbox_test" };
  const accessToken = testJwt({ exp, "https://api.openai.com/auth": auth });
  const file = {
    auth_mode: "chatgpt",
    OPENAI_API_KEY: null,
    tokens: {
      id_token: testJwt({ email: "e2e@example.invalid", exp, "https://api.openai.com/auth": auth }),
      access_token: accessToken,
      refresh_token: "rt_execbox_test",
      account_id: TEST_ACCOUNT_ID,
    },
    last_refresh: new Date().toISOString(),
  };
  writeFileSync(join(codexHome, "auth.json"), JSON.stringify(file));
  return accessToken;
}
