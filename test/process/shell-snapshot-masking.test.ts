/**
 * capabilities.md: with credential masking, the reference's login commands
 * get the executor's *real* token back from the shell snapshot's
 * environment, inside the sandbox that was meant to see only a dummy.
 * Reproduced on the reference (0.171.0). execbox masks the environment the
 * command finally gets, after the snapshot's environment is restored, so a
 * login command sees the same dummy as a plain one.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { appendFileSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { networkProxyLaunch } from "../helpers/network-proxy.ts";
import { referenceForTests } from "../helpers/reference-bin.ts";
import { RawClient } from "../helpers/rpc-client.ts";
import { type RunningServer, startServer } from "../helpers/server.ts";
import { POLICY, runLogin, snapshotHome, snapshotServerEnv, workspaceSandbox } from "../helpers/shell-snapshot.ts";

setDefaultTimeout(60_000);

const home = snapshotHome();
/** The reference's sandbox helper is `codex-linux-sandbox` on the child's PATH, and its bwrap needs --argv0 (its bundled one). */
const bin = join(home.path, "bin");
const reference = referenceForTests();
afterAll(() => home[Symbol.dispose]());

const masked = { sandbox: workspaceSandbox(home.uri, "enabled"), networkProxy: networkProxyLaunch({ credentialMasking: true }), enforceManagedNetwork: true };
const SHOW = 'echo "GT=$GITHUB_TOKEN"';

async function start(command?: string[]): Promise<{ server: RunningServer; c: RawClient }> {
  const env = { ...snapshotServerEnv(home.path), CODEX_HOME: join(home.path, ".codex") };
  if (command) env.PATH = `${bin}:${join(dirname(command[0]!), "..", "codex-resources")}:${env.PATH}`;
  const server = await startServer([], { env, cwd: home.path, command });
  const c = await RawClient.websocket(server.url);
  await c.initialize();
  return { server, c };
}

/** process/start with the masking extras (runLogin sends the rest). */
function startMasked(c: RawClient, processId: string, argv: string[], scope: string | null) {
  return c.call("process/start", { processId, argv, cwd: home.uri, env: {}, tty: false, envPolicy: { ...POLICY, ignoreDefaultExcludes: true }, ...masked, shellSnapshot: scope && { scopeId: scope, shell: { name: "bash", path: "/bin/bash" } } }, 30_000);
}

let ref: { server: RunningServer; c: RawClient } | undefined;
beforeAll(async () => {
  // CODEX_HOME must name a directory for masking (both executors refuse it otherwise).
  mkdirSync(join(home.path, ".codex"), { recursive: true });
  if (!reference) return;
  mkdirSync(bin, { recursive: true });
  symlinkSync(reference, join(bin, "codex-linux-sandbox"));
  // A login shell resets PATH (/etc/profile): the profile puts the helper back, or the reference's sandbox cannot start.
  writeFileSync(join(home.path, ".bash_profile"), `echo run >> "$HOME/profile-runs"\nexport PATH=${bin}:$PATH\n`);
  ref = await start([reference, "exec-server"]);
});
afterAll(async () => void (await ref?.server.stop("SIGKILL")));

test.skipIf(!reference)("reference: a plain command sees the masked token, a login command restored from the snapshot the real one", async () => {
  const c = ref!.c;
  const first = await startMasked(c, "plain", ["/bin/bash", "-c", SHOW], null);
  expect(first.result?.sandboxType, JSON.stringify(first.error)).toBe("linuxSeccomp");
  await c.processDone("plain", 30_000);
  expect(c.output("plain", "stdout").toString()).toMatch(/^GT=ghp_masked[A-Za-z0-9]+\n$/);
  for (const id of ["login-1", "login-2"]) {
    expect((await startMasked(c, id, ["/bin/bash", "-lc", SHOW], "masking")).result.sandboxType).toBe("linuxSeccomp");
    await c.processDone(id, 30_000);
    expect(c.output(id, "stdout").toString()).toBe("GT=ghp_executor_secret\n");
  }
});

test("execbox: a plain command and login commands restored from the snapshot all see the masked token", async () => {
  const x = await start();
  try {
    const plain = await startMasked(x.c, "plain", ["/bin/bash", "-c", SHOW], null);
    expect(plain.error).toBeUndefined();
    await x.c.processDone("plain", 30_000);
    const seen = x.c.output("plain", "stdout").toString();
    expect(seen).toMatch(/^GT=ghp_masked[A-Za-z0-9]{30}\n$/);
    const runs = home.runs();
    for (const id of ["login-1", "login-2"]) {
      expect((await startMasked(x.c, id, ["/bin/bash", "-lc", SHOW], "masking-execbox")).error).toBeUndefined();
      await x.c.processDone(id, 30_000);
      expect(x.c.output(id, "stdout").toString()).toBe(seen);
    }
    // The profile ran once, for the capture: the second login command was restored from the snapshot.
    expect(home.runs()).toBe(runs + 1);
  } finally {
    await x.server.stop("SIGKILL");
  }
});

test("execbox: a profile's copy of the token under another name comes back from the snapshot as the dummy", async () => {
  appendFileSync(join(home.path, ".bash_profile"), 'export GT_COPY="$GITHUB_TOKEN"\n');
  const x = await start();
  try {
    expect((await startMasked(x.c, "copy", ["/bin/bash", "-lc", 'echo "GT=$GITHUB_TOKEN COPY=$GT_COPY"'], "masking-copy")).error).toBeUndefined();
    await x.c.processDone("copy", 30_000);
    const out = x.c.output("copy", "stdout").toString();
    const dummy = /^GT=(ghp_masked[A-Za-z0-9]{30}) /.exec(out)?.[1];
    expect(out).toBe(`GT=${dummy} COPY=${dummy}\n`);
  } finally {
    await x.server.stop("SIGKILL");
  }
});
