/**
 * 10,000+ malformed and random frames: every one is answered or drops only its
 * own connection, the executor keeps serving, and its memory stays bounded.
 * The generator only ever names harmless methods, so no frame can touch files
 * or processes outside what a test owns.
 */
import { expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync } from "node:fs";
import { RawClient } from "../helpers/rpc-client.ts";
import { startServer } from "../helpers/server.ts";

setDefaultTimeout(120_000);

const FRAMES = 12_000;
/** Harmless names: read-only, unknown, or lifecycle. Never fs/* writes or process/start. */
const METHODS = ["environment/status", "environment/info", "process/read", "process/signal", "no/such", "initialize", "initialized", "", "process/terminate"];
/** A bound far above a healthy executor's RSS (~50–100 MiB) and far below a leak of these frames. */
const MAX_RSS_KIB = 400 * 1024;

function rng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

function randomValue(r: () => number, depth = 0): unknown {
  const k = Math.floor(r() * (depth > 2 ? 5 : 8));
  switch (k) {
    case 0: return null;
    case 1: return r() < 0.5;
    case 2: return Math.floor((r() - 0.5) * 2 ** 40) / (r() < 0.2 ? 7 : 1);
    case 3: return String.fromCharCode(...Array.from({ length: Math.floor(r() * 12) }, () => Math.floor(r() * 0x2fff)));
    case 4: return "processId";
    case 5: return Array.from({ length: Math.floor(r() * 4) }, () => randomValue(r, depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      for (let i = Math.floor(r() * 4); i > 0; i--) o[["processId", "afterSeq", "signal", "id", "method", "x"][Math.floor(r() * 6)]!] = randomValue(r, depth + 1);
      return o;
    }
  }
}

function randomFrame(r: () => number, n: number): string {
  const kind = Math.floor(r() * 6);
  if (kind === 0) return Buffer.from(Array.from({ length: Math.floor(r() * 64) }, () => Math.floor(r() * 256))).toString("latin1");
  if (kind === 1) return JSON.stringify(randomValue(r)).slice(0, Math.floor(r() * 40));
  const msg: Record<string, unknown> = {};
  if (r() < 0.98) msg.id = r() < 0.8 ? n : randomValue(r);
  if (r() < 0.95) msg.method = r() < 0.9 ? METHODS[Math.floor(r() * METHODS.length)] : randomValue(r);
  if (r() < 0.8) msg.params = randomValue(r);
  if (r() < 0.01) msg.result = {};
  return JSON.stringify(msg);
}

test(`${FRAMES} random frames: answered, connection-local failures only, memory bounded`, async () => {
  await using server = await startServer(["--concurrent-requests", "4"]);
  const r = rng(20261121);
  let client = await RawClient.websocket(server.url);
  const clients = [client];
  let drops = 0;
  for (let n = 0; n < FRAMES; n++) {
    if (client.closed) {
      drops++;
      client = await RawClient.websocket(server.url);
      clients.push(client);
    }
    client.sendRaw(randomFrame(r, n));
    // Keep the in-flight window modest so a dropped connection costs little.
    if (n % 50 === 49) await client.call("environment/status").catch(() => undefined);
  }
  if (client.closed) client = await RawClient.websocket(server.url);
  await client.initialize("after-fuzz");
  expect(await client.ok("environment/status")).toEqual({ status: "ready" });
  const rss = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${server.proc.pid}/status`, "utf8"))![1]);
  expect(rss).toBeLessThan(MAX_RSS_KIB);
  // Fatal frames (stray notifications, responses) drop their connection and nothing else;
  // the rest are answered (a frame sent just before a drop may go unanswered).
  expect(drops).toBeGreaterThan(0);
  const answered = clients.reduce((n, c) => n + c.frames.filter((f) => "id" in f).length, 0);
  expect(answered).toBeGreaterThan(FRAMES / 2);
  client.close();
});
