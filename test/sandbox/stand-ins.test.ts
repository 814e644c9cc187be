/**
 * Stand-ins shared between executors (src/sandbox/placeholders.ts): each
 * executor here is a real process holding the stand-in the way a sandbox
 * launch does; the paths are in a temp dir the test makes.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { chownSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const FIXTURE = join(import.meta.dir, "fixtures", "hold-stand-in.ts");
const READY_MS = 10_000;

type Holder = { proc: Bun.Subprocess<"pipe", "pipe", "inherit">; next(): Promise<string>; release(): Promise<void> };
const running: Holder[] = [];
const dirs: string[] = [];

afterEach(() => {
  for (const h of running.splice(0)) h.proc.kill("SIGKILL");
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempRoot(): string {
  const d = mkdtempSync(join(tmpdir(), "execbox-stand-ins-"));
  dirs.push(d);
  return d;
}

/** A user without root's privileges: as root, `nobody` (via setpriv); otherwise the test's own user. */
const NOBODY = 65534;
const unprivileged = (argv: string[]) =>
  process.getuid!() === 0 ? ["setpriv", `--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups", ...argv] : argv;

/** Starts one holder process (as an unprivileged user if asked) and waits for its first line. */
async function hold(root: string, kind: "dir" | "file", ...paths: string[]): Promise<Holder> {
  return holdAs(false, root, kind, ...paths);
}

async function holdAs(asUnprivileged: boolean, root: string, kind: "dir" | "file", ...paths: string[]): Promise<Holder> {
  const holder = startHolder(asUnprivileged, root, kind, paths);
  expect(await holder.next()).toBe("held");
  return holder;
}

/** One holder process; its first line says whether it holds (`held`) or why not (`error: …`). */
function startHolder(asUnprivileged: boolean, root: string, kind: "dir" | "file", paths: string[]): Holder {
  const argv = [process.execPath, FIXTURE, root, kind, ...paths];
  const proc = Bun.spawn(asUnprivileged ? unprivileged(argv) : argv, { stdin: "pipe", stdout: "pipe", stderr: "inherit" });
  const lines = (async function* () {
    let buf = "";
    for await (const chunk of proc.stdout) {
      buf += Buffer.from(chunk).toString();
      for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
        yield buf.slice(0, i);
        buf = buf.slice(i + 1);
      }
    }
  })();
  const next = async () => {
    let timer: Timer | undefined;
    const deadline = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error("holder did not answer in time")), READY_MS)));
    try {
      const r = await Promise.race([lines.next(), deadline]);
      return r.done ? "(eof)" : r.value;
    } finally {
      clearTimeout(timer);
    }
  };
  const holder: Holder = {
    proc,
    next,
    async release() {
      proc.stdin.write("release\n");
      proc.stdin.flush();
      expect(await next()).toBe("released");
      expect(await proc.exited).toBe(0);
    },
  };
  running.push(holder);
  return holder;
}

describe("stand-ins shared by two executors", () => {
  // Either kind, either release order: the first to let go (maker or not) leaves it to the one still holding it.
  // The unprivileged case: marking a 0444 file needs write permission on it (root has it regardless); without it the
  // last holder, not the maker, left the file behind.
  const releaseOrders = [
    ["dir", ".git", true, false],
    ["file", "secret.env", false, false],
    ["file", "secret.env", true, true],
  ] as const;
  for (const [kind, name, makerFirst, unprivileged] of releaseOrders) {
    const whose = unprivileged ? "an unprivileged executor's" : "a";
    test(`${whose} ${kind} stand-in stays while another executor's sandbox holds it (the ${makerFirst ? "maker" : "other holder"} lets go first); the last holder removes it`, async () => {
      const root = tempRoot();
      if (unprivileged && process.getuid!() === 0) chownSync(root, NOBODY, NOBODY);
      const path = join(root, name);
      const maker = await holdAs(unprivileged, root, kind, path);
      expect(existsSync(path)).toBe(true);
      const other = await holdAs(unprivileged, root, kind, path);
      const [first, last] = makerFirst ? [maker, other] : [other, maker];
      await first.release();
      // Removed here, it would have detached the other sandbox's read-only mount over it, and its command could create it.
      expect(existsSync(path)).toBe(true);
      await last.release();
      expect(existsSync(path)).toBe(false);
    });
  }

  test("a FIFO planted where a file stand-in goes is held without blocking the executor on its open, and left in place", async () => {
    // A racing child can create it between the launch's check that the path is missing and the hold.
    const root = tempRoot();
    const fifo = join(root, "secret.env");
    expect(Bun.spawnSync(["mkfifo", fifo]).exitCode).toBe(0);
    await (await hold(root, "file", fifo)).release();
    expect(statSync(fifo).isFIFO()).toBe(true);
  });

  test("a file where a directory stand-in goes refuses the hold, saying so", async () => {
    const root = tempRoot();
    const git = join(root, ".git");
    writeFileSync(git, "");
    const refused = startHolder(false, root, "dir", [git]);
    expect(await refused.next()).toBe(`error: ${git} is in the way: it, or a directory above it, is not a directory`);
    expect(await refused.proc.exited).toBe(1);
    expect(statSync(git).isFile()).toBe(true);
  });

  test("a path the user made (no stand-in mark) is held but never removed", async () => {
    const root = tempRoot();
    const git = join(root, ".git");
    mkdirSync(git);
    const envFile = join(root, "empty.env");
    writeFileSync(envFile, "");
    const a = await hold(root, "dir", git);
    const b = await hold(root, "dir", git);
    await a.release();
    await b.release();
    expect(existsSync(git)).toBe(true);
    await (await hold(root, "file", envFile)).release();
    expect(existsSync(envFile)).toBe(true);
  });

  test("one executor alone makes and removes its stand-in, as before", async () => {
    const root = tempRoot();
    const git = join(root, ".git");
    await (await hold(root, "dir", git)).release();
    expect(existsSync(git)).toBe(false);
  });
});
