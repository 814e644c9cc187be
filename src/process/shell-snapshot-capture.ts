/**
 * Runs the capture: `<shell> -lc CAPTURE_SCRIPT` once, in the command's cwd,
 * environment and sandbox, and reads its stdout back, bounded in bytes and
 * time. Any failure is an Error whose message says why (logged; the command
 * then runs as it was sent).
 */
import { randomUUID } from "node:crypto";
import { closeSync, openSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { NativePath } from "../protocol/path-uri.ts";
import { CAPTURE_SCRIPT, type CapturedShell, SNAPSHOT_FD, parseCapture } from "./shell-snapshot-script.ts";
import { type Child, spawnChild } from "./spawn.ts";

export type CaptureSpec = {
  shellPath: string;
  cwd: NativePath;
  env: Record<string, string>;
  /** The command's sandbox wrapper: the profile runs under the very policy the command would. */
  wrapper?: string[] | null;
  fdFiles?: string[];
};

export type CaptureLimits = { maxBytes: number; timeoutMs: number; exitGraceMs: number };

export type Capture = (spec: CaptureSpec, limits: CaptureLimits) => Promise<CapturedShell>;

export const captureShell: Capture = async (spec, limits) => {
  // The script checks that /dev/fd/16 opens (as the restore will need): give it something harmless there.
  const devNull = openSync("/dev/null", "r");
  let child: Child;
  try {
    child = spawnChild(
      { argv: [spec.shellPath, "-lc", CAPTURE_SCRIPT], cwd: spec.cwd, env: spec.env, tty: false, pipeStdin: false, wrapper: spec.wrapper, fdFiles: spec.fdFiles, extraFd: { at: SNAPSHOT_FD, fd: devNull } },
      { data() {}, end() {} },
    );
  } finally {
    closeSync(devNull);
  }
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.signalGroup("SIGKILL");
  }, limits.timeoutMs);
  try {
    void drain(child.stderr!.stream);
    const stdout = readBounded(child.stdout!.stream, limits.maxBytes, () => child.signalGroup("SIGKILL"));
    const status = await child.exited;
    // A daemon the profile started may hold stdout open for good: after the exit, wait briefly for EOF.
    const out = await Promise.race([stdout, Bun.sleep(limits.exitGraceMs).then(() => stdout.cut())]);
    if (out === TOO_BIG) throw new Error(`shell snapshot capture exceeds ${limits.maxBytes} bytes`);
    if (timedOut) throw new Error(`shell snapshot capture did not finish within ${limits.timeoutMs} ms`);
    if (status !== 0) throw new Error(`shell snapshot capture exited with exit status: ${status}`);
    const parsed = parseCapture(out);
    if (typeof parsed === "string") throw new Error(parsed);
    return parsed;
  } finally {
    clearTimeout(timer);
    child.stdout!.close();
    child.stderr!.close();
  }
};

const TOO_BIG = Symbol("too big");

type Bounded = Promise<string | typeof TOO_BIG> & { cut(): string | typeof TOO_BIG };

/** Reads a stream to its end, giving up (and calling `over`) past `max` bytes; `cut()` stops early with what came so far. */
function readBounded(stream: ReadableStream<Uint8Array>, max: number, over: () => void): Bounded {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let tooBig = false;
  const text = () => (tooBig ? TOO_BIG : new TextDecoder().decode(Buffer.concat(chunks)));
  const promise = (async () => {
    for (;;) {
      const r = await reader.read().catch(() => ({ done: true as const, value: undefined }));
      if (r.done) break;
      size += r.value.byteLength;
      if (size > max) {
        tooBig = true;
        over();
        break;
      }
      chunks.push(r.value);
    }
    void reader.cancel().catch(() => {});
    return text();
  })();
  return Object.assign(promise, {
    cut: () => {
      void reader.cancel().catch(() => {});
      return text();
    },
  });
}

/** Reads and drops a stream (the profile's stderr): an unread pipe would block a chatty profile. */
async function drain(stream: ReadableStream<Uint8Array>): Promise<void> {
  try {
    for await (const _ of stream) {
      // dropped
    }
  } catch {
    // closed under us: nothing more to drop
  }
}

/**
 * The restore script as a descriptor for the command: a private (0600) temp
 * file, unlinked at once, so only the child ever reads it (it holds the
 * profile's functions and aliases, no environment). The caller closes it after the spawn.
 */
export function openRestoreScript(text: string): number {
  const path = join(tmpdir(), `execbox-shell-snapshot-${randomUUID()}`);
  writeFileSync(path, text, { mode: 0o600, flag: "wx" });
  try {
    return openSync(path, "r");
  } finally {
    unlinkSync(path);
  }
}
