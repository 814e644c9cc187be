#!/usr/bin/env bun
/** execbox command-line entry: parses arguments and runs the chosen mode. */
import { PROTOCOL_VERSION, VERSION } from "../version.ts";
import { HELP, parseArgs } from "./args.ts";
import { UsageError } from "./listen.ts";
import { serve } from "./serve.ts";
import { FS_HELPER_FLAG } from "../sandbox/fs-helper-flag.ts";

async function main(argv: string[]): Promise<number> {
  // Helper mode is how the executor itself runs sandboxed fs/* requests (src/sandbox/fs-helper.ts).
  if (argv[0] === FS_HELPER_FLAG) return (await import("../sandbox/fs-helper.ts")).runFsHelper();
  let command;
  try {
    command = parseArgs(argv);
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
      process.stdout.write(command.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
      return 0;
    }
    case "serve":
    case "exec":
    case "info":
      try {
        if (command.command === "serve") return await serve(command);
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

process.exit(await main(process.argv.slice(2)));
