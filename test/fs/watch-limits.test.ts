/**
 * `fs/watchMissing` bounds: 64 paths per watch (the reference's: more are
 * `watching: false`), 1,024 watched paths and 256 watches per connection
 * (more are -32602), and a periodic re-check that visits at most 256 paths a
 * tick. Regression: one watch of 20,000 paths, re-checked every 250 ms, took
 * a core and made every other connection wait.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  MAX_PATHS_PER_WATCH,
  MAX_WATCHED_PATHS_PER_CONNECTION,
  MAX_WATCHES_PER_CONNECTION,
  MissingWatches,
  WATCH_RECHECK_PATHS_PER_TICK,
} from "../../src/fs/watch-missing.ts";
import { ErrorCode } from "../../src/protocol/errors.ts";
import { cpuSeconds } from "../helpers/proc.ts";
import { RawClient } from "../helpers/rpc-client.ts";
import { startServer, tempDir } from "../helpers/server.ts";

setDefaultTimeout(30_000);

const dir = tempDir("execbox-watch-limits-");
afterAll(() => dir[Symbol.dispose]());
const paths = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => join(dir.path, `${prefix}-${i}`, "deep", "flag"));

/** MissingWatches takes the paths as the wire sends them. */
const uris = (prefix: string, n: number) => paths(prefix, n).map((p) => `file://${p}`);

describe("MissingWatches", () => {
  test("65 paths in one watch are watching:false, as the reference; 64 are watched", () => {
    const w = new MissingWatches(() => {});
    expect(w.add(1, dir.uri, uris("a", MAX_PATHS_PER_WATCH + 1))).toEqual({ watching: false });
    expect(w.add(2, dir.uri, uris("b", MAX_PATHS_PER_WATCH))).toEqual({ watching: true });
    w.closeAll();
  });

  test("past 1,024 watched paths per connection: -32602", () => {
    const w = new MissingWatches(() => {});
    for (let id = 0; id < MAX_WATCHED_PATHS_PER_CONNECTION / MAX_PATHS_PER_WATCH; id++) {
      expect(w.add(id + 1, dir.uri, uris(`c${id}`, MAX_PATHS_PER_WATCH))).toEqual({ watching: true });
    }
    expect(() => w.add(100, dir.uri, uris("d", 1))).toThrow(
      expect.objectContaining({ code: ErrorCode.InvalidParams, message: "fs/watchMissing: at most 1024 paths may be watched per connection (1024 are, 1 more asked)" }),
    );
    // A tick re-checks a bounded number of paths, whatever the connection holds.
    const before = w.checks;
    w.recheck();
    expect(w.checks - before).toBe(WATCH_RECHECK_PATHS_PER_TICK);
    w.closeAll();
  });

  test("past 256 watches per connection: -32602", () => {
    const w = new MissingWatches(() => {});
    for (let id = 1; id <= MAX_WATCHES_PER_CONNECTION; id++) expect(w.add(id, dir.uri, uris(`e${id}`, 1))).toEqual({ watching: true });
    expect(() => w.add(1000, dir.uri, uris("f", 1))).toThrow(
      expect.objectContaining({ code: ErrorCode.InvalidParams, message: "fs/watchMissing: at most 256 watches may be active per connection" }),
    );
    w.closeAll();
  });

  test("the re-check fires for a path created, and for a directory created on the way to one", () => {
    const fired: number[] = [];
    const w = new MissingWatches((id) => fired.push(id));
    const [flat, deep] = [join(dir.path, "g.flag"), join(dir.path, "h", "i", "j.flag")];
    expect(w.add(1, dir.uri, [`file://${flat}`])).toEqual({ watching: true });
    expect(w.add(2, null, [`file://${deep}`])).toEqual({ watching: true });
    writeFileSync(flat, "");
    mkdirSync(join(dir.path, "h"));
    w.recheck();
    expect(fired).toEqual([1, 2]);
  });
});

test("regression: a watch of 20,000 paths is refused; a connection at its caps costs the executor little CPU", async () => {
  await using server = await startServer();
  const c = await RawClient.websocket(server.url);
  await c.initialize();
  const huge = paths("huge", 20_000).map((p) => `file://${p}`);
  expect(await c.ok("fs/watchMissing", { watchId: 1, present: dir.uri, missing: huge })).toEqual({ watching: false });
  for (let id = 2; id < 2 + MAX_WATCHED_PATHS_PER_CONNECTION / MAX_PATHS_PER_WATCH; id++) {
    const missing = paths(`full${id}`, MAX_PATHS_PER_WATCH).map((p) => `file://${p}`);
    expect(await c.ok("fs/watchMissing", { watchId: id, present: dir.uri, missing })).toEqual({ watching: true });
  }
  const over = await c.call("fs/watchMissing", { watchId: 99, present: dir.uri, missing: [`${dir.uri}/one-more`] });
  expect(over.error).toEqual({ code: -32602, message: "fs/watchMissing: at most 1024 paths may be watched per connection (1024 are, 1 more asked)" });
  // Over 2 s of re-checks (8 ticks, ~6,000 stats), the executor stays far below a core (before: all of one).
  const cpu0 = cpuSeconds(server.proc.pid);
  await Bun.sleep(2_000);
  expect(cpuSeconds(server.proc.pid) - cpu0).toBeLessThan(0.5);
  expect(await c.ok("environment/status")).toEqual({ status: "ready" });
  c.close();
});
