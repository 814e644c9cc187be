/** The user-facing commands: parses arguments and runs the chosen mode. */
import { PROTOCOL_VERSION, VERSION } from "../version.ts";
import { HELP, parseArgs } from "./args.ts";
import { ExitCode } from "./exit-codes.ts";
import { withEnvFlags } from "./env-flags.ts";
import { UsageError } from "./listen.ts";
import { serve } from "./serve.ts";
import { log } from "../log/logger.ts";

/**
 * Runs the command; whatever fails is one line on stderr and an exit code
 * (src/cli/exit-codes.ts), never the runtime's dump of bundled source.
 */
export async function runCommand(argv: string[]): Promise<number> {
  process.on("uncaughtException", internalFailure);
  process.on("unhandledRejection", internalFailure);
  try {
    return await run(argv);
  } catch (e) {
    internalFailure(e);
    return ExitCode.internal;
  }
}

/** An error nothing expected: one line (its stack only at debug), exit 70. */
function internalFailure(e: unknown): void {
  const error = e instanceof Error ? e : new Error(String(e));
  if (log.on("debug") && error.stack) log.debug("internal error", { stack: error.stack });
  console.error(`Error: internal error: ${error.message}`);
  process.exit(ExitCode.internal);
}

async function run(argv: string[]): Promise<number> {
  let command;
  try {
    command = parseArgs(withEnvFlags(argv, process.env, parseArgs));
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`Error: ${e.message}`);
      return e.exitCode;
    }
    throw e;
  }
  switch (command.command) {
    case "help":
      process.stdout.write(HELP);
      return 0;
    case "version":
      process.stdout.write(`execbox ${VERSION} (codex exec-server protocol ${PROTOCOL_VERSION})\n`);
      return 0;
    case "doctor": {
      const { doctor, formatReport } = await import("../sandbox/doctor.ts");
      const report = await doctor();
      if (command.remote === undefined) {
        process.stdout.write(command.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
        return 0;
      }
      const { formatProbe, probeRegistry } = await import("../remote/registry-probe.ts");
      const registry = await probeRegistry(command.remote);
      process.stdout.write(command.json ? `${JSON.stringify({ ...report, registry }, null, 2)}\n` : `${formatReport(report)}${formatProbe(registry)}\n`);
      // Exit 1 when the registry cannot be reached, so scripts can gate on it.
      return registry.reachable ? 0 : 1;
    }
    case "kill":
    case "serve":
    case "exec":
    case "info":
    case "ps":
    case "forward":
      try {
        if (command.command === "serve") return await serve(command);
        if (command.command === "kill") return await (await import("./kill.ts")).runKill(command);
        if (command.command === "ps") return await (await import("./ps.ts")).runPs(command);
        if (command.command === "forward") return await (await import("./forward.ts")).runForward(command);
        // Loaded on demand so the executor's startup does not pay for the client.
        const client = await import("./exec.ts");
        return await (command.command === "exec" ? client.runExec(command) : client.runInfo(command));
      } catch (e) {
        if (!(e instanceof UsageError)) throw e;
        console.error(`Error: ${e.message}`);
        return e.exitCode;
      }
  }
}
