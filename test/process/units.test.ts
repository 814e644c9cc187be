/** Unit tests for the pure parts of the process domain. */
import { describe, expect, test } from "bun:test";
import { FALLBACK_SHELL, loginShellOrFallback, passwdShell } from "../../src/process/account-shell.ts";
import { globMatcher, resolveChildEnv } from "../../src/process/env-policy.ts";
import { readdirSync, readlinkSync } from "node:fs";
import { OutputLog } from "../../src/process/output-log.ts";
import { FileStore } from "../../src/process/ring-store.ts";

describe("OutputLog", () => {
  const chunk = (seq: number, size: number) => ({ seq, stream: "stdout" as const, bytes: new Uint8Array(size) });

  test("evicts the oldest chunks beyond its capacity, keeping at least one", () => {
    const log = new OutputLog(10);
    for (let s = 1; s <= 5; s++) log.append(chunk(s, 4));
    expect(log.read(0, undefined).map((c) => c.seq)).toEqual([4, 5]);
    const big = new OutputLog(10);
    big.append(chunk(1, 50));
    expect(big.read(0, undefined).map((c) => c.seq)).toEqual([1]);
  });

  test("maxBytes: the first chunk always, then while the total stays within budget", () => {
    const log = new OutputLog(1000);
    for (const [s, n] of [[1, 5], [2, 5], [3, 5]] as const) log.append(chunk(s, n));
    expect(log.read(0, 0).map((c) => c.seq)).toEqual([1]);
    expect(log.read(0, 9).map((c) => c.seq)).toEqual([1]);
    expect(log.read(0, 10).map((c) => c.seq)).toEqual([1, 2]);
    expect(log.read(1, 100).map((c) => c.seq)).toEqual([2, 3]);
    expect(log.hasAfter(3)).toBe(false);
    expect(log.hasAfter(2)).toBe(true);
  });

  test("copies what it keeps, across ring wrap-arounds and growth", () => {
    let state = 12345;
    const rand = (n: number) => ((state = (state * 1103515245 + 12345) & 0x7fffffff) % n);
    // The last two spill past a small threshold into a temp file.
    const cases = [[1000, 100, undefined], [4096, 4096, undefined], [1 << 20, 64 * 1024, undefined], [1000, 100, 256], [1 << 20, 64 * 1024, 64 * 1024]] as const;
    for (const [capacity, maxChunk, spillAt] of cases) {
      const log = new OutputLog(capacity, maxChunk, spillAt);
      const model: { seq: number; bytes: Uint8Array }[] = [];
      // Chunks are random windows of one random pool: distinct contents at memcpy speed (a byte-by-byte
      // fill took over 5 s under CI load).
      const pool = new Uint8Array(2 * maxChunk);
      for (let i = 0; i < pool.length; i++) pool[i] = rand(256);
      for (let seq = 1; seq <= 3000; seq++) {
        const length = 1 + rand(maxChunk);
        const from = rand(pool.length - length + 1);
        const bytes = pool.slice(from, from + length);
        model.push({ seq, bytes: bytes.slice() });
        log.append({ seq, stream: "stdout", bytes });
        bytes.fill(0); // the log must not keep the caller's buffer
        let total = model.reduce((a, c) => a + c.bytes.length, 0);
        while (model.length > 1 && total > capacity) total -= model.shift()!.bytes.length;
        if (seq % 97 === 0 || seq > 2990) {
          const got = log.read(0, undefined);
          expect(got.map((c) => c.seq)).toEqual(model.map((c) => c.seq));
          for (let i = 0; i < got.length; i++) expect(Buffer.from(got[i]!.bytes).equals(Buffer.from(model[i]!.bytes))).toBe(true);
        }
      }
      log.close();
    }
  });

  test("a ring past the spill threshold lives in an unlinked temp file, closed with the log", () => {
    const spillFiles = () =>
      readdirSync("/proc/self/fd").filter((fd) => {
        try {
          return /execbox-output-.* \(deleted\)$/.test(readlinkSync(`/proc/self/fd/${fd}`));
        } catch {
          return false;
        }
      }).length;
    const before = spillFiles();
    const log = new OutputLog(1 << 20, 4096, 8192);
    for (let s = 1; s <= 4; s++) log.append(chunk(s, 4096));
    expect(spillFiles()).toBe(before + 1);
    expect(log.read(0, undefined).map((c) => c.bytes.byteLength)).toEqual([4096, 4096, 4096, 4096]);
    log.close();
    expect(spillFiles()).toBe(before);
    expect(FileStore.create(16, "/nonexistent-execbox-dir")).toBeNull();
  });

  test("stays correct across many evictions (compaction)", () => {
    const log = new OutputLog(100);
    for (let s = 1; s <= 10_000; s++) log.append(chunk(s, 10));
    expect(log.read(0, undefined).map((c) => c.seq)).toEqual([9991, 9992, 9993, 9994, 9995, 9996, 9997, 9998, 9999, 10000]);
    expect(log.read(9995, undefined).length).toBe(5);
  });
});

describe("envPolicy", () => {
  const own = { HOME: "/root", PATH: "/bin", SHELL: "/bin/sh", LANG: "C", API_KEY: "k", MY_SECRET: "s", GH_TOKEN: "t", OTHER: "o" };
  const policy = (p: object) => ({ inherit: "all" as const, ignoreDefaultExcludes: false, exclude: [], set: {}, includeOnly: [], ...p });

  test("without a policy the child gets exactly env", () => {
    expect(resolveChildEnv(own, null, { A: "1" })).toEqual({ A: "1" });
  });
  test("all minus default excludes, then overlay", () => {
    expect(resolveChildEnv(own, policy({}), { OTHER: "x" })).toEqual({ HOME: "/root", PATH: "/bin", SHELL: "/bin/sh", LANG: "C", OTHER: "x" });
  });
  test("core keeps the basic variables only", () => {
    expect(resolveChildEnv(own, policy({ inherit: "core" }), {})).toEqual({ HOME: "/root", PATH: "/bin", SHELL: "/bin/sh", LANG: "C" });
  });
  test("ignoreDefaultExcludes, exclude globs, set, includeOnly, overlay in that order", () => {
    const env = resolveChildEnv(own, policy({ ignoreDefaultExcludes: true, exclude: ["h*"], set: { NEW: "n" }, includeOnly: ["*_*", "new", "PATH"] }), { Z: "z" });
    expect(resolveChildEnv(own, policy({ exclude: ["O[T]HER"] }), {}).OTHER).toBe("o");
    expect(env).toEqual({ API_KEY: "k", MY_SECRET: "s", GH_TOKEN: "t", NEW: "n", PATH: "/bin", Z: "z" });
  });
  test("globs are case-insensitive with ?, * and classes", () => {
    expect(globMatcher("pa?h")("PATH")).toBe(true);
    // Brackets are literal, as in the reference.
    expect(globMatcher("[lp]ANG")("LANG")).toBe(false);
    expect(globMatcher("CONF_[AM]*")("CONF_[AM]x")).toBe(true);
    expect(globMatcher("a.b")("axb")).toBe(false);
  });
});

describe("the account's login shell", () => {
  const passwd = "root:x:0:0:root:/root:/bin/bash\nnologin:x:5:5::/:\nme:x:1000:1000:Me:/home/me:/bin/sh\n";
  test("the shell field of the uid's line; none for an empty field or a missing uid", () => {
    expect(passwdShell(passwd, 0)).toBe("/bin/bash");
    expect(passwdShell(passwd, 1000)).toBe("/bin/sh");
    expect(passwdShell(passwd, 5)).toBeUndefined();
    expect(passwdShell(passwd, 42)).toBeUndefined();
    expect(passwdShell("", 0)).toBeUndefined();
  });
  test("/bin/sh when the passwd shell is missing, not executable or there is no passwd", () => {
    expect(loginShellOrFallback("root:x:0:0::/root:/no/such/shell\n", 0)).toBe(FALLBACK_SHELL);
    expect(loginShellOrFallback("root:x:0:0::/root:/etc/passwd\n", 0)).toBe(FALLBACK_SHELL);
    expect(loginShellOrFallback(undefined, 0)).toBe(FALLBACK_SHELL);
    expect(loginShellOrFallback("root:x:0:0::/root:/bin/sh\n", 0)).toBe("/bin/sh");
  });
});
