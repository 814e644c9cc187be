/**
 * deploy/install.sh, offline: from a local release directory and from a
 * release served on 127.0.0.1, it installs the executable only when
 * SHA256SUMS vouches for it.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { currentTarget, writeChecksums } from "../../build.ts";
import { PROTOCOL_VERSION } from "../../src/version.ts";
import { compiledBinary } from "../helpers/binary.ts";
import { REPO, tempDir } from "../helpers/server.ts";

setDefaultTimeout(60_000);

const INSTALL = join(REPO, "deploy/install.sh");
const asset = `execbox-${currentTarget()}`;
const dir = tempDir("execbox-install-");
const release = join(dir.path, "release");
let hash: string;

beforeAll(async () => {
  mkdirSync(release);
  symlinkSync(await compiledBinary(), join(release, asset));
  writeChecksums([join(release, asset)], release);
  hash = (await Bun.file(join(release, "SHA256SUMS")).text()).split(" ")[0]!;
});
afterAll(() => dir[Symbol.dispose]());

function install(args: string[]) {
  const run = Bun.spawnSync(["sh", INSTALL, ...args], { stdout: "pipe", stderr: "pipe", timeout: 50_000 });
  return { code: run.exitCode, stdout: run.stdout.toString(), stderr: run.stderr.toString() };
}

test("from a local release: checked, installed, runs", () => {
  const prefix = join(dir.path, "local");
  expect(install(["--from", release, "--prefix", prefix])).toEqual({
    code: 0,
    stdout: `installed ${asset} (sha256 ${hash}) as ${prefix}/bin/execbox\n`,
    stderr: "",
  });
  const version = Bun.spawnSync([join(prefix, "bin/execbox"), "--version"]);
  expect(version.stdout.toString()).toBe(`execbox ${pkg.version} (codex exec-server protocol ${PROTOCOL_VERSION})\n`);
});

test("a file that does not match SHA256SUMS is refused and nothing is installed", () => {
  const tampered = join(dir.path, "tampered");
  mkdirSync(tampered);
  writeFileSync(join(tampered, asset), "#!/bin/sh\necho pwned\n", { mode: 0o755 });
  symlinkSync(join(release, "SHA256SUMS"), join(tampered, "SHA256SUMS"));
  const prefix = join(dir.path, "refused");
  const got = new Bun.CryptoHasher("sha256").update("#!/bin/sh\necho pwned\n").digest("hex");
  expect(install(["--from", tampered, "--prefix", prefix])).toEqual({
    code: 1,
    stdout: "",
    stderr: `install.sh: checksum mismatch for ${asset}: expected ${hash}, got ${got}\n`,
  });
  expect(existsSync(join(prefix, "bin/execbox"))).toBe(false);
});

test("a file SHA256SUMS does not list is refused", () => {
  const unlisted = join(dir.path, "unlisted");
  mkdirSync(unlisted);
  symlinkSync(join(release, asset), join(unlisted, asset));
  writeFileSync(join(unlisted, "SHA256SUMS"), `${hash}  execbox-other\n`);
  expect(install(["--from", unlisted, "--prefix", join(dir.path, "unlisted-prefix")])).toEqual({
    code: 1,
    stdout: "",
    stderr: `install.sh: SHA256SUMS lists no ${asset}\n`,
  });
  expect(install(["--from", join(dir.path, "nowhere"), "--prefix", join(dir.path, "unlisted-prefix")]).stderr).toBe(
    `install.sh: cannot read ${join(dir.path, "nowhere")}/SHA256SUMS\n`,
  );
});

test.skipIf(!Bun.which("curl"))(`downloaded over HTTP from --base-url${Bun.which("curl") ? "" : " (skipped: no curl)"}`, async () => {
  await using server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (req) => new Response(Bun.file(join(release, new URL(req.url).pathname.slice(1)))) });
  const prefix = join(dir.path, "http");
  const run = Bun.spawn(["sh", INSTALL, "--base-url", `http://127.0.0.1:${server.port}/`, "--prefix", prefix], { stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(run.stdout).text(), new Response(run.stderr).text(), run.exited]);
  expect({ code, stdout, stderr }).toEqual({ code: 0, stdout: `installed ${asset} (sha256 ${hash}) as ${prefix}/bin/execbox\n`, stderr: "" });
});
