/**
 * The filesystem measurements: a big file streamed with `fs/open` + sequential
 * `fs/readBlock` (1 MiB blocks, one request at a time, until `eof`), and
 * `fs/readFile` of a mid-size file on one connection. The client decodes every
 * byte and checks length and CRC-32 against the file it wrote; clocks stop
 * when the (last) response frame arrives, before decoding.
 */
import { closeSync, openSync, writeSync } from "node:fs";
import { join } from "node:path";
import { BenchClient } from "./client.ts";
import { cpuSeconds, percentile, withTimeout } from "./measure.ts";
import { type ServerCommand, procStatusKiB, resetPeakRss, startServer } from "./servers.ts";

const MiB = 1 << 20;
export const BLOCK_BYTES = MiB;

export type BenchFile = { path: string; uri: string; bytes: number; crc32: number };

/**
 * Writes `bytes` of pseudo-random data to `dir/name`: one xorshift MiB, each
 * copy stamped with its index so a block served twice or out of order changes
 * the checksum.
 */
export function writeBenchFile(dir: string, name: string, bytes: number): BenchFile {
  const path = join(dir, name);
  const block = Buffer.allocUnsafe(MiB);
  let x = 0x9e3779b9;
  for (let i = 0; i < MiB; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    block.writeInt32LE(x | 0, i);
  }
  const fd = openSync(path, "w");
  let crc = 0;
  try {
    for (let off = 0, n = 0; off < bytes; off += MiB, n++) {
      block.writeUInt32LE(n, 0);
      const piece = block.subarray(0, Math.min(MiB, bytes - off));
      writeSync(fd, piece);
      crc = Bun.hash.crc32(piece, crc);
    }
  } finally {
    closeSync(fd);
  }
  return { path, uri: `file://${path}`, bytes, crc32: crc };
}

/** The base64 string member `key` of a result frame and the frame text around it. */
function member(text: string, key: string): { value: string; rest: string } {
  const at = text.indexOf(`"${key}":"`);
  if (at < 0) throw new Error(`no ${key} in response ${text.slice(0, 200)}`);
  const start = at + key.length + 4;
  const end = text.indexOf('"', start);
  return { value: text.slice(start, end), rest: text.slice(0, start) + text.slice(end) };
}

export type BlockReadResult = {
  mibPerSec: number;
  blocks: number;
  /** Server VmRSS after the handshake and VmHWM after the read, KiB. */
  rssBeforeKiB: number;
  peakRssKiB: number;
  serverCpuSeconds: number;
};

/** A fresh server; `fs/open`, `fs/readBlock` until `eof`, `fs/close`; every byte checked. */
export async function measureBlockRead(cmd: ServerCommand, file: BenchFile): Promise<BlockReadResult> {
  const server = await startServer(cmd);
  const client = await BenchClient.connect(server.url);
  try {
    await client.handshake();
    return await blockReadOn(client, server.pid, cmd.label, file);
  } finally {
    client.close();
    await server.kill();
  }
}

/** `measureBlockRead` on an initialized client of the executor `pid` (any transport); `openExtra` joins the fs/open params (a `sandbox`). */
export async function blockReadOn(client: BenchClient, pid: number, label: string, file: BenchFile, openExtra: object = {}): Promise<BlockReadResult> {
  const rssBeforeKiB = procStatusKiB(pid, "VmRSS");
  // The peak of this run only (not the warm-up's before it on the same executor).
  resetPeakRss(pid);
  const cpu0 = cpuSeconds(pid);
  const t0 = performance.now();
  await client.request("fs/open", { handleId: "bench", path: file.uri, ...openExtra });
  let offset = 0;
  let crc = 0;
  let blocks = 0;
  for (let eof = false; !eof; blocks++) {
    const text = await withTimeout(client.requestText("fs/readBlock", { handleId: "bench", offset, len: BLOCK_BYTES }), 30_000, "fs/readBlock");
    const { value, rest } = member(text, "chunk");
    const bytes = Buffer.from(value, "base64");
    eof = rest.includes('"eof":true');
    if (!eof && bytes.length === 0) throw new Error(`${label}: empty block at ${offset} without eof`);
    crc = Bun.hash.crc32(bytes, crc);
    offset += bytes.length;
  }
  const seconds = (performance.now() - t0) / 1000;
  const serverCpuSeconds = cpuSeconds(pid) - cpu0;
  const peakRssKiB = procStatusKiB(pid, "VmHWM");
  await client.request("fs/close", { handleId: "bench" });
  if (offset !== file.bytes) throw new Error(`${label}: read ${offset} bytes, expected ${file.bytes}`);
  if (crc !== file.crc32) throw new Error(`${label}: checksum mismatch`);
  return { mibPerSec: file.bytes / MiB / seconds, blocks, rssBeforeKiB, peakRssKiB, serverCpuSeconds };
}

export type ReadFileResult = { samples: number[]; p50: number; p99: number; min: number; peakRssKiB: number };

/** A fresh server; `fs/readFile` of `file`, `warmup` + `runs` times in a row, every reply checked. */
export async function measureReadFile(cmd: ServerCommand, file: BenchFile, warmup: number, runs: number): Promise<ReadFileResult> {
  const server = await startServer(cmd);
  const client = await BenchClient.connect(server.url);
  try {
    await client.handshake();
    const samples: number[] = [];
    for (let i = 0; i < warmup + runs; i++) {
      const t0 = performance.now();
      const text = await withTimeout(client.requestText("fs/readFile", { path: file.uri }), 30_000, "fs/readFile");
      const ms = performance.now() - t0;
      const bytes = Buffer.from(member(text, "dataBase64").value, "base64");
      if (bytes.length !== file.bytes || Bun.hash.crc32(bytes) !== file.crc32) {
        throw new Error(`${cmd.label}: fs/readFile returned ${bytes.length} bytes or wrong content`);
      }
      if (i >= warmup) samples.push(ms);
    }
    return {
      samples,
      p50: percentile(samples, 50),
      p99: percentile(samples, 99),
      min: Math.min(...samples),
      peakRssKiB: procStatusKiB(server.pid, "VmHWM"),
    };
  } finally {
    client.close();
    await server.kill();
  }
}
