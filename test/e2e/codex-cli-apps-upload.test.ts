/**
 * End-to-end: the real Codex CLI (0.169.0 and 0.171.0) uploads a file for a Codex Apps tool
 * through execbox under a read-restricted permissions profile (sandboxedFileStreaming). Loopback
 * fakes play the hosted parts (test/helpers/fake-chatgpt.ts): the model, the ChatGPT apps MCP
 * server, the file upload endpoints and the ChatGPT login.
 *
 * The flow (openai/codex codex-rs/core `mcp_openai_file.rs`, `codex-api` `upload_openai_file`;
 * observed with both CLIs):
 * 1. `[features] apps = true`, a ChatGPT login (auth.json) and `chatgpt_base_url` make the CLI
 *    start the `codex_apps` MCP server at `<base>/ps/mcp`. A tool whose `_meta` says
 *    `"openai/fileParams": ["file"]` is offered to the model (through `tool_search`, in namespace
 *    `mcp__codex_apps__<connector>`) with `file` rewritten to "an absolute local file path".
 * 2. When the model calls it, the CLI resolves the path against the cwd and, because the profile
 *    does not read the whole disk, refuses unless the executor reports `sandboxedFileStreaming`;
 *    then `fs/getMetadata` and `fs/open` (mode "read") + `fs/readBlock`… + `fs/close`, each with
 *    the profile as `sandbox`.
 * 3. It streams the blocks to the upload: `POST <base>/files` `{file_name, file_size,
 *    use_case:"codex", codex_connector_id, codex_action_name, codex_model}` → `PUT upload_url` →
 *    `POST <base>/files/<id>/uploaded`, and calls the tool with `file: {download_url, file_id,
 *    mime_type, file_name}` (the optional fields because the tool's schema names them).
 *
 * 4. A file the profile hides fails at `fs/getMetadata` with the executor's error, which becomes
 *    the tool's output ("failed to upload `<path>` for `file`: …"): nothing is opened or uploaded
 *    and the tool is not called. With `sandboxedFileStreaming: false` in `initialize` (probed by
 *    rewriting it in the tap) the CLI sends no `fs/open` at all.
 *
 *   default_permissions = "ro"
 *   [permissions.ro.filesystem]
 *   "<work>" = "read"
 *   "<work>/private" = "deny"
 *   (plus /usr, /bin, /lib so the helper can run)
 *
 * The same file passes against the reference executor (`codex exec-server` 0.169.0 and 0.171.0,
 * with its bundled bwrap first on PATH; see test/e2e/codex-cli.test.ts for the wrapper), with the
 * same fs/* frames apart from times and handle ids. Needs bwrap on PATH (CI installs bubblewrap).
 */
import { describe, expect, test } from "bun:test";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as cli from "../helpers/codex-cli.ts";
import { REFRESH_PATH, TEST_ACCOUNT_ID, startFakeChatGpt, writeChatGptAuth, type AppsTool } from "../helpers/fake-chatgpt.ts";
import { startServer, tempDir } from "../helpers/server.ts";
import { startWsTap, type TappedFrame } from "../helpers/ws-tap.ts";

// A passing session takes ~6 s; these bound the failure cases.
const CODEX_DEADLINE_MS = 30_000;
const TEST_TIMEOUT_MS = 60_000;
/** Large enough that the CLI reads it in several `fs/readBlock`s. */
const FILE_SIZE = 3 * 1024 * 1024 + 17;

const EXTRACT_TOOL: AppsTool = {
  name: "calendar_extract_text",
  description: "Extract text from an uploaded document.",
  annotations: { readOnlyHint: true },
  inputSchema: {
    type: "object",
    properties: {
      file: {
        type: "object",
        description: "Document file payload.",
        properties: { download_url: { type: "string" }, file_id: { type: "string" }, mime_type: { type: "string" }, file_name: { type: "string" } },
        required: ["download_url", "file_id"],
        additionalProperties: false,
      },
    },
    required: ["file"],
    additionalProperties: false,
  },
  _meta: {
    connector_id: "calendar",
    connector_name: "Calendar",
    connector_description: "Plan events and manage your calendar.",
    "openai/fileParams": ["file"],
    _codex_apps: { resource_uri: "connector://calendar/tools/calendar_extract_text", contains_mcp_source: true, connector_id: "calendar" },
  },
};

/** Every byte value, in an order that is not a plain ramp. */
function fileBytes(size: number): Uint8Array {
  return Uint8Array.from({ length: size }, (_, i) => (i * 31 + (i >> 11)) % 256);
}

type Params = { path?: string; handleId?: string; mode?: string; sandbox?: { permissions?: Record<string, unknown> } | null };

/**
 * One `codex exec` whose model finds the apps tool and calls it with `file` = `fileArg(work,
 * parent)`, against a fresh execbox behind a frame tap. `report.bin` is in the readable workspace,
 * `secret.bin` beside it, outside the profile, and `link.bin` in the workspace is a symlink to it.
 */
async function session(codex: { path: string }, fileArg: (work: string, parent: string) => string) {
  using tmp = tempDir("execbox-codex-apps-");
  const [work, codexHome, home, execboxHome] = ["work", "codex-home", "home", "execbox-home"].map((d) => join(tmp.path, d)) as [string, string, string, string];
  for (const d of [work, codexHome, home, execboxHome]) mkdirSync(d, { recursive: true });
  const bytes = fileBytes(FILE_SIZE);
  writeFileSync(join(work, "report.bin"), bytes);
  writeFileSync(join(tmp.path, "secret.bin"), bytes);
  symlinkSync(join(tmp.path, "secret.bin"), join(work, "link.bin"));
  mkdirSync(join(work, "private"));
  writeFileSync(join(work, "private/key.bin"), bytes);
  const arg = fileArg(work, tmp.path);

  await using chatgpt = startFakeChatGpt([EXTRACT_TOOL]);
  await using api = cli.startFakeResponsesApi([
    [cli.toolSearchCall("search_1", "extract text from an uploaded document")],
    [cli.namespacedCall("call_1", "mcp__codex_apps__calendar", "_extract_text", { file: arg })],
    [cli.assistantMessage("uploaded")],
  ]);
  const model = cli.pickBundledModel(codex.path, codexHome);
  const accessToken = writeChatGptAuth(codexHome);
  const profile = `\n[permissions.ro.filesystem]\n"${work}" = "read"\n"${work}/private" = "deny"\n"/usr" = "read"\n"/bin" = "read"\n"/lib" = "read"\n`;
  cli.writeCodexHome(codexHome, {
    baseUrl: api.baseUrl,
    model,
    extra: {
      topLevel: `default_permissions = "ro"\nchatgpt_base_url = "${chatgpt.baseUrl}"\ncli_auth_credentials_store = "file"`,
      features: { apps: true },
      tables: profile,
    },
  });
  await using server = await startServer([], { env: { ...process.env, HOME: execboxHome, CODEX_HOME: join(execboxHome, ".codex") } });
  await using tap = startWsTap(server.url);
  const run = await cli.runCodexExec({
    codex: codex.path,
    codexHome,
    home,
    cwd: work,
    execServerUrl: tap.url,
    prompt: "Extract the text of the report with the calendar app.",
    timeoutMs: CODEX_DEADLINE_MS,
    env: { CODEX_REFRESH_TOKEN_URL_OVERRIDE: `${new URL(chatgpt.baseUrl).origin}${REFRESH_PATH}` },
  });
  const sent = (method: string, path: string) =>
    tap.frames.filter((f) => f.from === "client" && f.message.method === method && (f.message.params as Params).path === `file://${path}`);
  const answer = (frame: TappedFrame | undefined) => tap.frames.find((f) => f.from === "executor" && frame !== undefined && f.message.id === frame.message.id)?.message;
  const toolCalls = chatgpt.mcp.filter((m) => m.method === "tools/call");
  return {
    run,
    diag: `codex exit=${run.exitCode} timedOut=${run.timedOut}\nbackend unexpected: ${chatgpt.unexpected.join(", ")}\n--- stderr\n${run.stderr}`,
    bytes,
    work,
    arg,
    model,
    accessToken,
    sent,
    answer,
    frames: tap.frames,
    uploads: chatgpt.uploads,
    toolCalls,
    unexpected: chatgpt.unexpected,
    toolOutput: cli.toolOutput(api.requests[2], "call_1"),
  };
}

cli.forEachCodexCli("apps-upload e2e", (codex, version) => {
  describe(`codex ${version} CLI → execbox, Codex Apps file upload under a read-restricted profile`, () => {
    test(
      "a workspace file is streamed with fs/open + fs/readBlock inside the sandbox and uploaded byte for byte",
      async () => {
        const r = await session(codex, () => "report.bin");
        const path = join(r.work, "report.bin");
        expect(r.run.timedOut, r.diag).toBe(false);
        expect(r.run.exitCode, r.diag).toBe(0);

        const [open, ...moreOpens] = r.sent("fs/open", path);
        expect(moreOpens, r.diag).toEqual([]);
        const params = open?.message.params as Params;
        expect(params.mode, r.diag).toBe("read");
        expect(params.sandbox?.permissions, r.diag).toMatchObject({ type: "managed", file_system: { type: "restricted" }, network: "restricted" });
        expect((params.sandbox?.permissions?.file_system as { entries: unknown[] }).entries).toContainEqual({ path: { type: "path", path: `file://${r.work}` }, access: "read" });
        // The metadata probe before it carried the same profile.
        const [stat] = r.sent("fs/getMetadata", path);
        expect((stat?.message.params as Params).sandbox, r.diag).toEqual(params.sandbox!);
        expect(r.answer(open), r.diag).toEqual({ id: open!.message.id, result: { handleId: params.handleId } });
        const reads = r.frames.filter((f) => f.from === "client" && f.message.method === "fs/readBlock" && (f.message.params as Params).handleId === params.handleId);
        expect(reads.length, r.diag).toBeGreaterThan(1);

        expect(r.uploads.length, r.diag).toBe(1);
        const upload = r.uploads[0]!;
        expect(upload.create).toEqual({
          file_name: "report.bin",
          file_size: FILE_SIZE,
          use_case: "codex",
          codex_connector_id: "calendar",
          codex_action_name: "calendar_extract_text",
          codex_model: r.model,
        });
        expect(upload.auth).toEqual({ authorization: `Bearer ${r.accessToken}`, accountId: TEST_ACCOUNT_ID });
        expect(upload.put).toEqual({ contentLength: String(FILE_SIZE), blobType: "BlockBlob" });
        expect(upload.bytes?.length).toBe(FILE_SIZE);
        expect(Buffer.from(upload.bytes!).equals(Buffer.from(r.bytes)), "uploaded bytes differ from the file").toBe(true);
        expect(upload.finalized).toBe(true);

        // The tool got the uploaded file's reference instead of the path.
        expect(r.toolCalls.map((m) => m.params?.arguments), r.diag).toEqual([
          { file: { download_url: expect.stringMatching(/\/download\/file_1$/), file_id: "file_1", mime_type: "application/octet-stream", file_name: "report.bin" } },
        ]);
        expect(r.toolOutput, r.diag).toContain('"file_id":"file_1"');
        expect(r.unexpected.filter((u) => u.endsWith(REFRESH_PATH))).toEqual([]);
      },
      TEST_TIMEOUT_MS,
    );

    const notFound = { code: -32004, message: "No such file or directory (os error 2)" };
    const hidden: [string, (work: string, parent: string) => string, { code: number; message: string }][] = [
      ["a file outside the profile's readable set", (_work, parent) => join(parent, "secret.bin"), notFound],
      ["a workspace symlink to that file", () => "link.bin", notFound],
      ["a file in a denied workspace directory", () => "private/key.bin", { code: -32600, message: "Permission denied (os error 13)" }],
    ];
    for (const [what, fileArg, refusal] of hidden) {
      test(
        `${what} is refused by execbox (${refusal.code}) and nothing is uploaded`,
        async () => {
          const r = await session(codex, fileArg);
          const path = r.arg.startsWith("/") ? r.arg : join(r.work, r.arg);
          expect(r.run.timedOut, r.diag).toBe(false);
          expect(r.run.exitCode, r.diag).toBe(0);

          const [stat, ...more] = r.sent("fs/getMetadata", path);
          expect(more, r.diag).toEqual([]);
          expect((stat?.message.params as Params).sandbox?.permissions, r.diag).toMatchObject({ type: "managed", file_system: { type: "restricted" } });
          expect(r.answer(stat), r.diag).toEqual({ id: stat!.message.id, error: refusal });
          expect(r.sent("fs/open", path), r.diag).toEqual([]);
          expect(r.uploads, r.diag).toEqual([]);
          expect(r.toolCalls, r.diag).toEqual([]);
          expect(r.toolOutput, r.diag).toContain(`failed to upload \`${r.arg}\` for \`file\`: ${refusal.message}`);
        },
        TEST_TIMEOUT_MS,
      );
    }
  });
});
