/**
 * The client library under Node (≥ 20): bundled for Node with Bun.build and
 * driven from a node script over WebSocket and stdio. Skipped when `node` is
 * not on PATH. Node 20/21 need `--experimental-websocket` for the global
 * WebSocket (or an injected constructor); Node 22 has it.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { REPO, type RunningServer, execboxCommand, startServer, tempDir } from "../helpers/server.ts";

setDefaultTimeout(60_000);

const node = Bun.which("node");
const dir = tempDir();
let server: RunningServer;

beforeAll(async () => {
  if (node) server = await startServer();
});
afterAll(async () => {
  // SIGTERM: the executor kills every process it still runs (detached sessions included) before exiting.
  await server?.stop("SIGTERM");
  dir[Symbol.dispose]();
});

const SCRIPT = `
import { connectStdio, connectWebSocket } from "./client.mjs";
const [url, cwd, command] = [process.argv[2], process.argv[3], JSON.parse(process.argv[4])];
const result = {};
const ws = await connectWebSocket(url, { clientName: "node" });
const p = await ws.startProcess({ argv: ["sh", "-c", "printf hi; exit 3"], cwd, env: { PATH: "/usr/bin:/bin" }, tty: false });
const r = await p.collect();
result.ws = [Buffer.from(r.stdout).toString(), r.exitCode];
result.file = Buffer.from(await ws.readFile(cwd + "/f.txt")).toString();
await ws.close();
const stdio = await connectStdio(command, { stderr: "ignore" });
result.stdio = (await stdio.call("environment/status")).status;
await stdio.close();
console.log(JSON.stringify(result));
`;

test.skipIf(!node)("connectWebSocket and connectStdio work under Node", async () => {
  const build = await Bun.build({ entrypoints: [join(REPO, "src/client/index.ts")], target: "node", format: "esm" });
  expect(build.success).toBe(true);
  writeFileSync(join(dir.path, "client.mjs"), await build.outputs[0]!.text());
  writeFileSync(join(dir.path, "main.mjs"), SCRIPT);
  writeFileSync(join(dir.path, "f.txt"), "file-bytes");
  const version = Bun.spawnSync([node!, "--version"]).stdout.toString().trim();
  const major = Number(/^v(\d+)/.exec(version)?.[1]);
  const flags = major < 22 ? ["--experimental-websocket", "--no-warnings"] : ["--no-warnings"];
  const proc = Bun.spawn([node!, ...flags, join(dir.path, "main.mjs"), server.url, dir.uri, JSON.stringify(execboxCommand())], {
    stdout: "pipe",
    stderr: "pipe",
  });
  const timer = setTimeout(() => proc.kill("SIGKILL"), 30_000);
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  expect({ code, err }).toEqual({ code: 0, err: "" });
  expect(JSON.parse(out)).toEqual({ ws: ["hi", 3], file: "file-bytes", stdio: "ready" });
});
