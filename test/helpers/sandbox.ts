/** Shared by the sandbox suites: a workspace and an "outside" dir per file, and running `sh -c` sandboxed. */
import { afterAll, beforeAll, expect } from "bun:test";
import { symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { RawClient } from "./rpc-client.ts";
import { tempDir } from "./server.ts";
import { waitUntil } from "./wait.ts";

export const SANDBOX_ENV = { PATH: "/usr/bin:/bin" };
export const special = (kind: string) => ({ type: "special", value: { kind } });

type Dir = ReturnType<typeof tempDir>;

/**
 * Before the file's tests: a workspace (with `link-out` → outside) and an
 * outside dir holding `victim` = "original"; `setup` adds more. Removed after.
 */
export function sandboxDirs(setup: (ws: Dir, outside: Dir) => void = () => {}): { ws: Dir; outside: Dir } {
  const dirs = {} as { ws: Dir; outside: Dir };
  beforeAll(() => {
    dirs.ws = tempDir("execbox-sbx-ws-");
    dirs.outside = tempDir("execbox-sbx-out-");
    writeFileSync(join(dirs.outside.path, "victim"), "original");
    symlinkSync(dirs.outside.path, join(dirs.ws.path, "link-out"));
    setup(dirs.ws, dirs.outside);
  });
  afterAll(() => {
    dirs.ws[Symbol.dispose]();
    dirs.outside[Symbol.dispose]();
  });
  return dirs;
}

export type SandboxedRun = { sandboxType: string; exitCode: number; denied: boolean; readDenied: boolean; stdout: string; stderr: string };

let n = 0;
/** `sh -c script` in `cwd` under `sandbox`, to its close; a refused start is returned as `{ error }`. */
export async function runSandboxed(c: RawClient, cwdUri: string, script: string, sandbox: object | null): Promise<SandboxedRun | { error: { code: number; message: string } }> {
  const processId = `sbx${n++}`;
  const start = await c.call("process/start", { processId, argv: ["sh", "-c", script], cwd: cwdUri, env: SANDBOX_ENV, tty: false, sandbox });
  if (start.error) return { error: start.error };
  const events = await c.processDone(processId);
  const exited = events.find((e) => e.method === "process/exited")!.params;
  const read = await c.ok("process/read", { processId });
  return {
    sandboxType: start.result.sandboxType,
    exitCode: exited.exitCode,
    denied: exited.sandboxDenied,
    readDenied: read.sandboxDenied,
    stdout: c.output(processId, "stdout").toString(),
    stderr: c.output(processId, "stderr").toString(),
  };
}

/**
 * A SOCK_DGRAM Unix socket the test owns, bound at `path` by a python3
 * process that prints every datagram it gets, one per line, until "end".
 * `received()` sends "end" itself (unsandboxed) and returns all lines seen.
 */
async function dgramSink(path: string): Promise<{ received(): Promise<string[]>; [Symbol.asyncDispose](): Promise<void> }> {
  const server = Bun.spawn(
    ["python3", "-c", 'import socket,sys\ns=socket.socket(socket.AF_UNIX,socket.SOCK_DGRAM)\ns.bind(sys.argv[1])\nprint("ready",flush=True)\nwhile True:\n d=s.recv(4096).decode()\n print(d,flush=True)\n if d=="end": break', path],
    { stdout: "pipe", stderr: "inherit" },
  );
  let text = "";
  const reading = (async () => {
    for await (const chunk of server.stdout) text += new TextDecoder().decode(chunk);
  })();
  await waitUntil(() => text.includes("ready\n") || server.exitCode !== null, 10_000, "the datagram sink to bind");
  return {
    async received() {
      const send = Bun.spawnSync(["python3", "-c", 'import socket,sys\nsocket.socket(socket.AF_UNIX,socket.SOCK_DGRAM).sendto(b"end",sys.argv[1])', path]);
      if (send.exitCode !== 0) throw new Error(`could not send to the sink: ${send.stderr.toString()}`);
      await server.exited;
      await reading;
      return text.trimEnd().split("\n").slice(1);
    },
    async [Symbol.asyncDispose]() {
      server.kill("SIGKILL");
      await server.exited;
    },
  };
}

/**
 * Tries to send one datagram to the Unix socket at argv[1] three ways — a
 * SOCK_DGRAM socket, a SOCK_RAW one (the kernel makes it a datagram socket),
 * and a datagram socketpair with an explicit address — printing `<way> sent`
 * or `<way> <errno>`.
 */
const DGRAM_ESCAPE = [
  "import socket,sys",
  "p=sys.argv[1]",
  "ways=[('socket',lambda:socket.socket(socket.AF_UNIX,socket.SOCK_DGRAM).sendto(b'via-socket',p)),",
  " ('raw',lambda:socket.socket(socket.AF_UNIX,socket.SOCK_RAW).sendto(b'via-raw',p)),",
  " ('socketpair',lambda:socket.socketpair(socket.AF_UNIX,socket.SOCK_DGRAM)[0].sendmsg([b'via-socketpair'],[],0,p))]",
  "for name,f in ways:",
  " try:",
  "  f();print(name,'sent')",
  " except OSError as e:print(name,e.errno)",
].join("\n");

/**
 * The datagram escape, end to end: DGRAM_ESCAPE run sandboxed (by `run`, in
 * `wsPath`) against a sink in `outsidePath`; every way must fail with EPERM
 * and nothing but the test's own "end" may arrive.
 */
export async function expectNoDatagramEscape(run: (script: string) => Promise<{ stdout: string }>, wsPath: string, outsidePath: string): Promise<void> {
  const target = join(outsidePath, "log.sock");
  await using sink = await dgramSink(target);
  writeFileSync(join(wsPath, "dgram.py"), DGRAM_ESCAPE);
  const r = await run(`python3 dgram.py ${target}`);
  expect(r.stdout).toBe("socket 1\nraw 1\nsocketpair 1\n");
  expect(await sink.received()).toEqual(["end"]);
}
