/**
 * One executor over stdio for a describe block's process tests: connected in
 * beforeAll, disposed (with its temp dir) in afterAll; `start` sends
 * `process/start` with fresh ids, PATH-only env and the given defaults.
 */
import { afterAll, beforeAll } from "bun:test";
import type { Frame, RawClient } from "./rpc-client.ts";
import { tempDir } from "./server.ts";
import { type Connected, readyClient } from "./transports.ts";

export type ProcessSuite = {
  readonly c: RawClient;
  readonly dir: ReturnType<typeof tempDir>;
  /** The raw response and the id used. */
  start(argv: string[], extra?: Record<string, unknown>): Promise<{ r: Frame; processId: string }>;
};

export function processSuite(idPrefix: string, defaults: Record<string, unknown>): ProcessSuite {
  let conn: Connected;
  let n = 0;
  const dir = tempDir();
  beforeAll(async () => {
    conn = await readyClient("stdio");
  });
  afterAll(async () => {
    await conn.dispose();
    dir[Symbol.dispose]();
  });
  const suite: ProcessSuite = {
    get c() {
      return conn.client;
    },
    dir,
    async start(argv, extra = {}) {
      const processId = `${idPrefix}${++n}`;
      const r = await conn.client.call("process/start", { processId, argv, cwd: dir.uri, env: { PATH: "/usr/bin:/bin" }, ...defaults, ...extra });
      return { r, processId };
    },
  };
  return suite;
}
