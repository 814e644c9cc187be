/**
 * Managed network (`enforceManagedNetwork` + `managedNetwork.loopbackPorts`):
 * the sandbox has its own network namespace, so nothing on the host is
 * reachable — except the listed 127.0.0.1 ports (the orchestrator's proxies),
 * bridged through Unix sockets in a private directory bound into the sandbox:
 *
 *   command → 127.0.0.1:P (inside) → bridge → DIR/P.sock → host relay → 127.0.0.1:P (host)
 *
 * The inside half runs as this executable (`--execbox-net-bridge`), started
 * by the inner stage before the seccomp filter; the host half lives in the
 * server for as long as the process runs.
 */
import { mkdtempSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { privateDir } from "./private-dir.ts";
import { type Relay, startRelay } from "./socket-relay.ts";

/** How long the inner stage waits for the inside bridge to listen before giving up (fail closed). */
export const BRIDGE_READY_TIMEOUT_MS = 5_000;
const READY = "ready\n";

const socketPath = (dir: string, port: number) => join(dir, `${port}.sock`);

export type HostBridge = { dir: string; release(): void };

/** The host half: one Unix socket per allowed port, relayed to 127.0.0.1:port. */
export function startHostBridge(ports: number[]): HostBridge {
  const dir = mkdtempSync(join(privateDir(), "net-"));
  const relays: Relay[] = [];
  try {
    for (const port of ports) relays.push(startRelay({ unix: socketPath(dir, port) }, { hostname: "127.0.0.1", port }));
  } catch (e) {
    for (const r of relays) r.stop();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  let released = false;
  return {
    dir,
    release() {
      if (released) return;
      released = true;
      for (const r of relays) r.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The inside half (`execbox --execbox-net-bridge DIR PORT…`): listens on 127.0.0.1:PORT, says ready, runs until the sandbox ends. */
export async function runNetBridge(args: string[]): Promise<number> {
  const [dir, ...ports] = args;
  if (!dir || ports.length === 0) {
    process.stderr.write("execbox sandbox: usage: --execbox-net-bridge DIR PORT…\n");
    return 2;
  }
  try {
    // Anchored before the command starts: later connects resolve `<port>.sock` in this very directory
    // (read-only in the sandbox), whatever is renamed above it.
    process.chdir(dir);
    for (const port of ports.map(Number)) startRelay({ hostname: "127.0.0.1", port }, { unix: socketPath(".", port) });
  } catch (e) {
    process.stderr.write(`execbox sandbox: managed network bridge failed: ${(e as Error).message}\n`);
    return 1;
  }
  writeSync(1, READY);
  await new Promise(() => {}); // serves until the sandbox's PID namespace ends
  return 0;
}

/** In the inner stage: starts the inside bridge and waits for its ready line. */
export async function startInsideBridge(self: string[], flag: string, dir: string, ports: string[]): Promise<void> {
  const bridge = Bun.spawn([...self, flag, dir, ...ports], { stdin: "ignore", stdout: "pipe", stderr: "inherit" });
  const reader = bridge.stdout.getReader();
  let text = "";
  const deadline = setTimeout(() => bridge.kill(), BRIDGE_READY_TIMEOUT_MS);
  try {
    while (!text.includes(READY)) {
      const { done, value } = await reader.read();
      if (done) throw new Error("managed network bridge did not start");
      text += new TextDecoder().decode(value);
    }
  } finally {
    clearTimeout(deadline);
    reader.releaseLock();
  }
}
