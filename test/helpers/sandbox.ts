/** Shared by the sandbox suites: a workspace and an "outside" dir per file, and running `sh -c` sandboxed. */
import { afterAll, beforeAll } from "bun:test";
import { symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { RawClient } from "./rpc-client.ts";
import { tempDir } from "./server.ts";

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
