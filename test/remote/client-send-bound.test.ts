/**
 * The harness's send bound: a caller that fires 64 MiB of fs/writeFile at an
 * executor (execbox's compiled binary in --remote mode) while the path to the
 * rendezvous stops taking bytes. The client must hold the calls it cannot
 * send (unsent, unencrypted) once SEND_HIGH_WATER_BYTES of ciphertext waits
 * on its relay socket, instead of encrypting and queueing all 64 MiB; once
 * the path flows again every write arrives, byte for byte.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { ExecboxClient } from "../../src/client/index.ts";
import { connectRemote, SEND_HIGH_WATER_BYTES } from "../../src/client/remote.ts";
import { execboxCommand } from "../helpers/server.ts";
import { waitUntil } from "../helpers/wait.ts";
import { type ProxiedRelay, startProxiedRelay } from "./client-relay-rig.ts";

setDefaultTimeout(90_000);

const FILES = 64;
const FILE_BYTES = 1024 * 1024;
/** Ciphertext per plaintext byte, generously: 16-byte tags, relay and WebSocket headers per ≤ 60 KiB record are ~0.2 %. */
const WIRE_OVERHEAD = 1.01;

let rig: ProxiedRelay;
let client: ExecboxClient | undefined;

beforeAll(async () => {
  // Bun's default 16 MiB send limit toward the executor would drop relay frames (a lost frame stalls a Noise stream).
  rig = await startProxiedRelay(execboxCommand(), "execbox", { backpressureLimit: 512 * 1024 * 1024 });
});

afterAll(async () => {
  await client?.close();
  await rig?.stop();
});

const content = (i: number) => Buffer.alloc(FILE_BYTES, `file ${i} of ${FILES}; `);

test("64 × 1 MiB fs/writeFile while the relay stops taking bytes: at most SEND_HIGH_WATER_BYTES + one message queued, the rest held; all arrive once it flows", async () => {
  client = await connectRemote({ ...rig.remote, resume: false });
  rig.proxy.hold(true);
  let largest = 0;
  const writes: Promise<unknown>[] = [];
  for (let i = 0; i < FILES; i++) {
    const params = { path: `${rig.dir.uri}/f${i}.bin`, dataBase64: content(i).toString("base64") };
    largest = Math.max(largest, JSON.stringify({ id: 0, method: "fs/writeFile", params }).length + 16);
    const write = client.call("fs/writeFile", params);
    write.catch(() => {}); // Awaited below; a failure before that must not be reported unhandled as well.
    writes.push(write);
  }
  const bound = SEND_HIGH_WATER_BYTES + Math.ceil(largest * WIRE_OVERHEAD);
  // The kernel buffers fill first; then ciphertext waits on the socket and, past the mark, calls wait unsent.
  await waitUntil(() => client!.sendBacklog.waitingCalls > 0 || client!.sendBacklog.queuedBytes > bound, 20_000, "the relay path to back up");
  const stalled = client.sendBacklog;
  expect(stalled.queuedBytes).toBeGreaterThan(0); // the kernel took what it could; the rest waits here
  expect(stalled.queuedBytes).toBeLessThanOrEqual(bound);
  expect(stalled.waitingCalls).toBeGreaterThan(0); // how many depends on what the kernel buffers took (3 MiB here: 60 of 64 wait)

  rig.proxy.hold(false);
  expect(await Promise.all(writes)).toEqual(Array.from({ length: FILES }, () => ({})));
  expect(client.sendBacklog).toEqual({ queuedBytes: 0, waitingCalls: 0 });
  for (let i = 0; i < FILES; i++) {
    expect(readFileSync(join(rig.dir.path, `f${i}.bin`)).equals(content(i))).toBe(true);
  }
});
