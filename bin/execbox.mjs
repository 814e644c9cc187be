#!/usr/bin/env node
// The package's `execbox` command. The executor needs Bun (Bun.listen,
// bun:ffi for the sandbox), so this launcher, which npm may run with Node,
// starts the bundled CLI (dist/cli/execbox.js) with `bun` from PATH, or from
// EXECBOX_BUN. The prebuilt single-file executables (deploy/install.sh) need
// neither Node nor Bun; they are not in this package (about 100 MB each).
import { spawn } from "node:child_process";
import { constants } from "node:os";
import { fileURLToPath } from "node:url";

const cli = fileURLToPath(new URL("../dist/cli/execbox.js", import.meta.url));
const bun = process.env.EXECBOX_BUN || "bun";
const child = spawn(bun, [cli, ...process.argv.slice(2)], { stdio: "inherit" });
child.on("error", (e) => {
  console.error(`Error: cannot start ${bun} (${e.code ?? e.message}): the execbox CLI runs on Bun ≥ 1.4.5 (npm i -g bun), or install the prebuilt executable with deploy/install.sh`);
  process.exit(127);
});
// The executor ends its processes on SIGTERM: pass it on and wait for it. A
// terminal's ^C already reaches the whole foreground group, child included,
// so SIGINT is not sent twice (`exec` would interrupt the command twice).
process.on("SIGINT", () => {});
for (const signal of ["SIGTERM", "SIGHUP"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => process.exit(code ?? 128 + (constants.signals[signal] ?? 0)));
