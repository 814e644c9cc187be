/**
 * The executor's own secrets (`--ws-token-file`, `--ws-shared-secret-file`)
 * are hidden from every sandbox: masked under bubblewrap (commands and the fs
 * helper), and under Landlock — which cannot mask — a policy that could read
 * one is refused.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { RawClient } from "../helpers/rpc-client.ts";
import { runSandboxed, sandboxDirs, special } from "../helpers/sandbox.ts";
import { type RunningServer, startServer, tempDir } from "../helpers/server.ts";

setDefaultTimeout(30_000);

const TOKEN = "secret-capability-token-4242";
const secrets = tempDir("execbox-secrets-");
const tokenFile = join(secrets.path, "token");
const dirs = sandboxDirs();
type Executor = { server: RunningServer; client: RawClient };
const executors: Record<"bwrap" | "landlock", Executor> = {} as never;

beforeAll(async () => {
  writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
  for (const backend of ["bwrap", "landlock"] as const) {
    const server = await startServer(["--ws-auth", "capability-token", "--ws-token-file", tokenFile, "--sandbox-backend", backend]);
    const client = await RawClient.websocket(server.url, { authorization: `Bearer ${TOKEN}` });
    await client.initialize();
    executors[backend] = { server, client };
  }
});
afterAll(async () => {
  for (const e of Object.values(executors)) {
    e.client.close();
    await e.server.stop("SIGKILL");
  }
  secrets[Symbol.dispose]();
});

/** Read everything, write the workspace. */
const sandbox = () => ({
  permissions: {
    type: "managed",
    file_system: { type: "restricted", entries: [{ path: special("root"), access: "read" }, { path: special("project_roots"), access: "write" }] },
    network: "restricted",
  },
  cwd: dirs.ws.uri,
  workspaceRoots: [dirs.ws.uri],
  windowsSandboxLevel: "disabled",
});

test("escape: a sandboxed command cannot read the executor's token file (bwrap: masked)", async () => {
  const c = executors.bwrap.client;
  const r = await runSandboxed(c, dirs.ws.uri, `cat ${tokenFile}`, sandbox());
  expect(r).toMatchObject({ exitCode: 1, stdout: "", stderr: `cat: ${tokenFile}: Permission denied\n` });
  // Nor through the fs helper, nor with the whole disk writable.
  expect((await c.call("fs/readFile", { path: `file://${tokenFile}`, sandbox: sandbox() })).error).toEqual({ code: -32600, message: "Permission denied (os error 13)" });
  const whole = { ...sandbox(), permissions: { type: "managed", file_system: { type: "unrestricted" }, network: "restricted" } };
  expect(await runSandboxed(c, dirs.ws.uri, `cat ${tokenFile}`, whole)).toMatchObject({ exitCode: 1, stdout: "" });
});

test("escape: under Landlock a policy that could read the token file is refused", async () => {
  const r = await runSandboxed(executors.landlock.client, dirs.ws.uri, `cat ${tokenFile}`, sandbox());
  expect(r).toEqual({
    error: {
      code: -32602,
      message: `sandbox intent cannot be enforced on this executor: the readable root / holds the executor's secret ${tokenFile}, which Landlock cannot hide (bubblewrap can; see \`execbox doctor\`)`,
    },
  });
});
