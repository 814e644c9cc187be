#!/usr/bin/env bun
/**
 * execbox's entry. The internal modes the sandbox starts this same executable
 * in are dispatched before anything else is loaded, so a sandboxed command
 * does not pay for the server's modules; everything else is `commands.ts`.
 * A worker thread started on this same bundle is the output-watch worker
 * (see watch-engine.ts for why the bundle, not a file of its own).
 */
import { FS_HELPER_FLAG, NET_BRIDGE_FLAG, SECCOMP_STAGE_FLAG } from "../sandbox/internal-flags.ts";

async function main(argv: string[]): Promise<number> {
  if (argv[0] === SECCOMP_STAGE_FLAG) return (await import("../sandbox/seccomp-stage.ts")).runSeccompStage(argv.slice(1));
  if (argv[0] === NET_BRIDGE_FLAG) return (await import("../sandbox/managed-network.ts")).runNetBridge(argv.slice(1));
  if (argv[0] === FS_HELPER_FLAG) return (await import("../sandbox/fs-helper.ts")).runFsHelper();
  return (await import("./commands.ts")).runCommand(argv);
}

if (Bun.isMainThread) process.exit(await main(process.argv.slice(2)));
else await import("../process/watch-worker.ts");
