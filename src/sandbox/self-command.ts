/**
 * How to start this executable again (the sandbox's inner stage, the fs
 * helper): a compiled binary is itself; from source it is `bun <main.ts>`,
 * from the npm package `bun <dist/cli/execbox.js>`.
 * `readable` lists what must stay visible inside a sandbox for that to work.
 */
import { dirname } from "node:path";

export function selfCommand(): { argv: string[]; readable: string[] } {
  const compiled = Bun.main.startsWith("/$bunfs/") || Bun.main.startsWith("B:/~BUN/");
  if (compiled) return { argv: [process.execPath], readable: [process.execPath] };
  // The npm package's bundled CLI (dist/cli/execbox.js) is one self-contained file.
  if (Bun.main.endsWith(".js")) return { argv: [process.execPath, Bun.main], readable: [process.execPath, Bun.main] };
  // src/cli/main.ts → the repository (sources and node_modules).
  return { argv: [process.execPath, Bun.main], readable: [process.execPath, dirname(dirname(dirname(Bun.main)))] };
}
