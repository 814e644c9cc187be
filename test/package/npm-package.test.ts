/**
 * The npm package as users get it: `npm pack` (which builds dist/lib and
 * dist/cli through `prepack`), installed into a fresh project and driven from
 * `node` against the compiled executor; then installed globally so `execbox`
 * is on PATH.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { PROTOCOL_VERSION } from "../../src/version.ts";
import { compiledBinary } from "../helpers/binary.ts";
import { REPO, type RunningServer, startServer, tempDir } from "../helpers/server.ts";

// npm pack builds the library and the CLI bundle (~20 s on the shared machine); installs fetch the dependencies.
setDefaultTimeout(180_000);

/** What an install may weigh unpacked: the built library, its types and the CLI bundle (about 1.5 MB today). */
const MAX_UNPACKED_BYTES = 4 * 1024 * 1024;
const DEADLINE_MS = 150_000;

const dir = tempDir("execbox-pkg-");
let tarball: string;
let packed: { filename: string; size: number; unpackedSize: number; files: { path: string }[] };
let server: RunningServer;

/** Runs a command to completion (killed at the deadline). */
async function run(argv: string[], options: { cwd?: string; env?: Record<string, string | undefined> } = {}) {
  const proc = Bun.spawn(argv, { cwd: options.cwd, env: options.env ?? process.env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => proc.kill("SIGKILL"), DEADLINE_MS);
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  return { stdout, stderr, code };
}

beforeAll(async () => {
  const pack = await run(["npm", "pack", "--json", "--pack-destination", dir.path], { cwd: REPO });
  expect(pack.code).toBe(0);
  // prepack's build logs go to stdout before npm's JSON.
  packed = (JSON.parse(pack.stdout.slice(pack.stdout.indexOf("[\n"))) as (typeof packed)[])[0]!;
  tarball = join(dir.path, packed.filename);
  server = await startServer([], { command: [await compiledBinary()] });
});
afterAll(async () => {
  await server?.stop("SIGKILL");
  dir[Symbol.dispose]();
});

// `files` keeps an install to what runs: without it a local install copied dist/'s executables and node_modules (133 MB).
test("the tarball holds the built library, the CLI bundle, its launcher and the documents", () => {
  const tops = [...new Set(packed.files.map((f) => f.path.split("/").slice(0, f.path.startsWith("dist/") ? 2 : 1).join("/")))].sort();
  expect(tops).toEqual(["CHANGELOG.md", "LICENSE", "README.md", "SECURITY.md", "bin", "dist/cli", "dist/lib", "package.json"]);
  expect(packed.files.filter((f) => f.path.startsWith("src/") || /execbox-(linux|darwin|windows)/.test(f.path))).toEqual([]);
  expect(packed.unpackedSize).toBeLessThan(MAX_UNPACKED_BYTES);
});

const CLIENT = `
import { connectWebSocket, ExecboxRpcError } from "execbox";
const client = await connectWebSocket(process.argv[2], { clientName: "node-package" });
const info = await client.call("environment/info");
const p = await client.startProcess({ argv: ["/bin/sh", "-c", "printf 'out %s' \\"$0\\"; printf err >&2; exit 3", "arg"], cwd: process.argv[3], env: { PATH: "/usr/bin:/bin" }, tty: false });
const events = [];
for await (const e of p) events.push(e.type === "output" ? e.stream + ":" + Buffer.from(e.data).toString() : e.type === "exited" ? "exited:" + e.exitCode : e.type);
const refused = await client.call("fs/readFile", { path: process.argv[3] + "/missing" }).catch((e) => e instanceof ExecboxRpcError && e.code);
await client.close();
console.log(JSON.stringify({ executor: info.executorVersion, events: events.sort(), refused }));
`;

// Node ≥ 22 has a global WebSocket; Node 20 and 21 need the flag.
function nodeFlags(): string[] {
  const major = Number(/^v(\d+)/.exec(Bun.spawnSync(["node", "--version"]).stdout.toString())?.[1]);
  return major < 22 ? ["--experimental-websocket", "--no-warnings"] : ["--no-warnings"];
}

test("installed from the tarball, `import { connectWebSocket } from \"execbox\"` runs a process under node", async () => {
  const project = join(dir.path, "project");
  await Bun.write(join(project, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
  const install = await run(["npm", "install", "--no-audit", "--no-fund", "--prefer-offline", tarball], { cwd: project });
  expect(install.code).toBe(0);
  writeFileSync(join(project, "main.mjs"), CLIENT);
  const result = await run(["node", ...nodeFlags(), "main.mjs", server.url, dir.uri], { cwd: project });
  expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: "" });
  const expected = `${JSON.stringify({ executor: PROTOCOL_VERSION, events: ["closed", "exited:3", "stderr:err", "stdout:out arg"], refused: -32004 })}\n`;
  expect(result.stdout).toBe(expected);
  // The same script under Bun, which resolves the same built files.
  expect(await run([process.execPath, "main.mjs", server.url, dir.uri], { cwd: project })).toEqual({ code: 0, stdout: expected, stderr: "" });
});

const REMOTE = `try { await import("execbox/remote"); console.log("loaded"); } catch (e) { console.log(e.message); }`;

test("execbox/remote loads under Bun and says it needs Bun under node", async () => {
  const project = join(dir.path, "project");
  writeFileSync(join(project, "remote.mjs"), REMOTE);
  expect((await run(["node", "remote.mjs"], { cwd: project })).stdout).toBe(
    'execbox/remote needs Bun (it uses Bun.connect and Bun.CryptoHasher); the main entry, "execbox", runs on Node\n',
  );
  expect((await run([process.execPath, "remote.mjs"], { cwd: project })).stdout).toBe("loaded\n");
});

const CONSUMER_TS = `
import { connectWebSocket, type ExecboxClient, ExecboxRpcError } from "execbox";
import { ErrorCode } from "execbox/protocol";
const client: ExecboxClient = await connectWebSocket("ws://127.0.0.1:1", { token: "t" });
const info = await client.call("environment/info");
const cwd: string | null | undefined = info.cwd;
export { cwd, ErrorCode, ExecboxRpcError };
`;

// The `types` conditions resolve under Node's own module resolution, with strict checks on the consumer's side.
test("the package's types resolve for a TypeScript consumer (nodenext)", async () => {
  const project = join(dir.path, "project");
  writeFileSync(join(project, "main.ts"), CONSUMER_TS);
  const tsc = join(REPO, "node_modules/typescript/bin/tsc");
  const flags = ["--noEmit", "--strict", "--skipLibCheck", "--target", "es2022", "--module", "nodenext", "--moduleResolution", "nodenext"];
  const result = await run([process.execPath, tsc, ...flags, "--types", "node", "--typeRoots", join(REPO, "node_modules/@types"), "main.ts"], { cwd: project });
  expect(result).toEqual({ code: 0, stdout: "", stderr: "" });
});

test("a global install puts `execbox` on PATH; without Bun it says what it needs", async () => {
  const prefix = join(dir.path, "global");
  const install = await run(["npm", "install", "-g", "--no-audit", "--no-fund", "--prefer-offline", "--prefix", prefix, tarball]);
  expect(install.code).toBe(0);
  const version = await run([join(prefix, "bin/execbox"), "--version"]);
  expect(version).toEqual({ code: 0, stdout: `execbox ${pkg.version} (codex exec-server protocol ${PROTOCOL_VERSION})\n`, stderr: "" });
  // As a server: the launcher passes SIGTERM on, the executor exits 0, and its listener is gone.
  const served = await startServer([], { command: [join(prefix, "bin/execbox")] });
  const readyz = served.url.replace("ws://", "http://") + "/readyz";
  expect((await fetch(readyz)).status).toBe(200);
  expect(await served.stop("SIGTERM")).toBe(0);
  expect(await fetch(readyz).then((r) => r.status, (e: { code?: string }) => e.code)).toBe("ECONNREFUSED");
  const noBun = await run([join(prefix, "bin/execbox"), "--version"], { env: { ...process.env, EXECBOX_BUN: join(dir.path, "no-bun") } });
  expect(noBun).toEqual({
    code: 127,
    stdout: "",
    stderr: `Error: cannot start ${join(dir.path, "no-bun")} (ENOENT): the execbox CLI runs on Bun ≥ 1.4.5 (npm i -g bun), or install the prebuilt executable with deploy/install.sh\n`,
  });
});
