/**
 * Compiles execbox for this machine into a temp dir once per test run, so
 * end-to-end tests exercise the single-file executable users download.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { COMPILE_FLAGS } from "../../build.ts";
import { REPO } from "./server.ts";

let built: Promise<string> | undefined;

/** The executable under test: EXECBOX_BIN (CI's dist build) or a fresh compile. */
export function compiledBinary(): Promise<string> {
  if (process.env.EXECBOX_BIN) return Promise.resolve(process.env.EXECBOX_BIN);
  built ??= (async () => {
    const outfile = join(mkdtempSync(join(tmpdir(), "execbox-bin-")), "execbox");
    const proc = Bun.spawn([process.execPath, "build", ...COMPILE_FLAGS, join(REPO, "src/cli/main.ts"), "--outfile", outfile], {
      stdout: "ignore",
      stderr: "pipe",
    });
    if ((await proc.exited) !== 0) throw new Error(`compile failed: ${await new Response(proc.stderr).text()}`);
    return outfile;
  })();
  return built;
}
