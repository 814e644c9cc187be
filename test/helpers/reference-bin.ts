/** Where `bun install` puts the reference `codex` binary (the pinned devDependency `@openai/codex`), for the conformance run and the benchmarks. */
import { resolve } from "node:path";

export const REFERENCE_BIN = resolve(import.meta.dir, "../../node_modules/@openai/codex-linux-x64/vendor/x86_64-unknown-linux-musl/bin/codex");
