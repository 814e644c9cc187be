#!/usr/bin/env bun
/**
 * `bun bench/noise.ts [--quick]`: cost of the Noise layer (remote.md §5).
 *
 * - hybridIK handshakes per second, and CPU per handshake for each role
 *   (the executor pays the responder's share for every stream opened);
 * - AES-256-GCM on 60 KiB records: node:crypto (what aead.ts uses) against
 *   `@noble/ciphers` gcm, MB/s and CPU per record;
 * - the whole record path (frame, seal, reorder, open, reassemble) for a 16 MiB message.
 *
 * Single process, single thread; numbers depend on the machine's load.
 */
import { gcm } from "@noble/ciphers/aes.js";
import { randomBytes } from "node:crypto";
import { aesGcmOpen, aesGcmSeal, EMPTY_AD } from "../src/remote/noise/aead.ts";
import {
  HybridKeyPair,
  MAX_RECORD_PLAINTEXT_BYTES,
  NoiseInitiator,
  NoiseResponder,
  buildPrologue,
  openNoiseStream,
} from "../src/remote/noise/index.ts";

const quick = process.argv.includes("--quick");
const cpuMs = (since: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
};

async function handshakes(count: number): Promise<void> {
  const executor = HybridKeyPair.generate();
  const harness = HybridKeyPair.generate();
  const prologue = buildPrologue({ environmentId: "env", executorRegistrationId: "reg", streamId: crypto.randomUUID() });
  const payload = new TextEncoder().encode("x".repeat(64));
  let initiatorCpu = 0;
  let responderCpu = 0;
  const wall = performance.now();
  for (let i = 0; i < count; i++) {
    let mark = process.cpuUsage();
    const initiator = new NoiseInitiator({ prologue, localStatic: harness, remoteStatic: executor.publicKeys });
    const msg1 = initiator.writeMessage1(payload);
    initiatorCpu += cpuMs(mark);
    mark = process.cpuUsage();
    const responder = new NoiseResponder({ prologue, localStatic: executor });
    await responder.readMessage1(msg1);
    const { message } = await responder.writeMessage2();
    responderCpu += cpuMs(mark);
    mark = process.cpuUsage();
    initiator.readMessage2(message);
    initiatorCpu += cpuMs(mark);
  }
  const seconds = (performance.now() - wall) / 1000;
  console.log(`| handshakes (both roles, one thread) | ${(count / seconds).toFixed(0)}/s | responder ${(responderCpu / count).toFixed(2)} ms CPU, initiator ${(initiatorCpu / count).toFixed(2)} ms CPU per handshake |`);
}

type Cipher = { seal(counter: number, pt: Uint8Array): Uint8Array; open(counter: number, ct: Uint8Array): Uint8Array };

function nobleNonce(counter: number): Uint8Array {
  const nonce = new Uint8Array(12);
  new DataView(nonce.buffer).setUint32(8, counter);
  return nonce;
}

function records(name: string, cipher: Cipher, count: number): void {
  const plaintext = Uint8Array.from(randomBytes(MAX_RECORD_PLAINTEXT_BYTES));
  const sealed: Uint8Array[] = [];
  let mark = process.cpuUsage();
  let wall = performance.now();
  for (let i = 0; i < count; i++) sealed.push(cipher.seal(i, plaintext));
  const sealMs = performance.now() - wall;
  const sealCpu = cpuMs(mark);
  mark = process.cpuUsage();
  wall = performance.now();
  for (let i = 0; i < count; i++) cipher.open(i, sealed[i]!);
  const openMs = performance.now() - wall;
  const openCpu = cpuMs(mark);
  const mb = (count * plaintext.length) / 1e6;
  console.log(
    `| ${name}, 60 KiB records | seal ${(mb / (sealMs / 1000)).toFixed(0)} MB/s, open ${(mb / (openMs / 1000)).toFixed(0)} MB/s | ${(sealCpu / count).toFixed(3)} / ${(openCpu / count).toFixed(3)} ms CPU per record |`,
  );
}

function stream(bytes: number): void {
  const k1 = Uint8Array.from(randomBytes(32));
  const k2 = Uint8Array.from(randomBytes(32));
  const harness = openNoiseStream({ send: k1, receive: k2 });
  const executor = openNoiseStream({ send: k2, receive: k1 });
  const message = new Uint8Array(bytes).fill(0x61);
  const mark = process.cpuUsage();
  const wall = performance.now();
  const out = harness.sender.send(message).flatMap((r) => executor.receiver.receive(r.seq, r.ciphertext));
  const ms = performance.now() - wall;
  if (out.length !== 1 || out[0]!.length !== bytes) throw new Error("stream lost the message");
  console.log(`| stream: ${bytes >> 20} MiB message framed, sealed, opened, reassembled | ${(bytes / 1e6 / (ms / 1000)).toFixed(0)} MB/s | ${cpuMs(mark).toFixed(0)} ms CPU |`);
}

const key = Uint8Array.from(randomBytes(32));
const native: Cipher = { seal: (n, pt) => aesGcmSeal(key, n, EMPTY_AD, pt), open: (n, ct) => aesGcmOpen(key, n, EMPTY_AD, ct) };
const noble: Cipher = { seal: (n, pt) => gcm(key, nobleNonce(n)).encrypt(pt), open: (n, ct) => gcm(key, nobleNonce(n)).decrypt(ct) };

console.log(`Bun ${Bun.version}, ${process.arch}${quick ? ", --quick" : ""}\n`);
console.log("| what | rate | cost |\n|---|---|---|");
await handshakes(quick ? 20 : 200);
records("node:crypto AES-256-GCM (used)", native, quick ? 100 : 1000);
records("@noble/ciphers gcm", noble, quick ? 20 : 200);
stream((quick ? 4 : 16) << 20);
