/**
 * Direct transport under real back-pressure: the endpoint is a raw TCP
 * WebSocket server (the upgrade answered by hand, signature not checked:
 * direct.test.ts does that) that really stops reading, so the executor's
 * socket backs up. The child must block (the session's producers wait on
 * "congested"), and every byte must arrive once reading resumes.
 */
import { afterEach, expect, setDefaultTimeout, test } from "bun:test";
import type { Socket, TCPSocketListener } from "bun";
import { FAKE_AWS } from "../helpers/fake-direct.ts";
import { startFakeRegistry } from "../helpers/fake-registry.ts";
import { childWritten } from "../helpers/proc.ts";
import { execboxCommand, tempDir } from "../helpers/server.ts";
import { waitUntil, waitUntilSteady } from "../helpers/wait.ts";
import { acceptKey } from "../../src/transport/http1.ts";
import { FrameReader, Opcode, encodeFrame } from "../../src/transport/ws-frames.ts";

setDefaultTimeout(60_000);

const MiB = 1 << 20;
const TOTAL = 64 * MiB;
/** What may be in flight while nobody reads: both socket buffers, the outbox, the pipe. */
const IN_FLIGHT_BOUND = 32 * MiB;

type Conn = { head: string | null; reader: FrameReader };

/** One-socket WebSocket server: answers the first upgrade with 101, then hands each text message to `onText`. */
function rawEndpoint(onText: (text: string) => void) {
  let socket: Socket<Conn> | undefined;
  const listener: TCPSocketListener<Conn> = Bun.listen<Conn>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(s) {
        s.data = { head: "", reader: new FrameReader(64 * MiB) };
        socket = s;
      },
      data(s, d) {
        if (s.data.head === null) return s.data.reader.push(d, (e) => void (e.kind === "message" && onText(new TextDecoder().decode(e.payload))));
        s.data.head += Buffer.from(d).toString("latin1");
        if (!s.data.head.includes("\r\n\r\n")) return;
        const key = /sec-websocket-key:\s*(\S+)/i.exec(s.data.head)![1]!;
        s.data.head = null;
        s.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptKey(key)}\r\n\r\n`);
      },
    },
  });
  return {
    url: `ws://127.0.0.1:${listener.port}/direct`,
    connected: () => socket !== undefined && socket.data.head === null,
    send: (text: string) => socket!.write(encodeFrame(Opcode.text, Buffer.from(text))),
    pause: () => socket!.pause(),
    resume: () => socket!.resume(),
    stop: () => listener.stop(true),
  };
}

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

test("a harness that stops reading blocks the child; every byte arrives once it reads again", async () => {
  let received = 0;
  let closed = false;
  const seqs: number[] = [];
  const replies = new Map<number, unknown>();
  const endpoint = rawEndpoint((text) => {
    const m = JSON.parse(text) as { id?: number; method?: string; params?: { seq: number; chunk?: string } };
    if (typeof m.id === "number") return void replies.set(m.id, m);
    seqs.push(m.params!.seq);
    if (m.method === "process/output") received += Buffer.from(m.params!.chunk!, "base64").length;
    if (m.method === "process/closed") closed = true;
  });
  cleanup.push(endpoint.stop);
  const registry = startFakeRegistry({ rendezvousUrl: endpoint.url });
  cleanup.push(() => registry[Symbol.asyncDispose]());
  const home = tempDir();
  cleanup.push(() => home[Symbol.dispose]());
  const proc = Bun.spawn([...execboxCommand(), "--remote", registry.url, "--environment-id", "env-1", "--remote-transport", "direct", "--aws-sigv4"], {
    stdout: "ignore",
    stderr: "ignore",
    stdin: "ignore",
    env: { ...process.env, ...FAKE_AWS, HOME: home.path },
  });
  cleanup.push(async () => {
    proc.kill("SIGKILL");
    await proc.exited;
  });

  await waitUntil(endpoint.connected, 15_000, "the executor's upgrade");
  endpoint.send(JSON.stringify({ id: 1, method: "initialize", params: { clientName: "direct-backpressure-test" } }));
  await waitUntil(() => replies.has(1), 10_000, "the initialize answer");
  endpoint.send(JSON.stringify({ method: "initialized", params: {} }));
  const argv = ["/usr/bin/head", "-c", String(TOTAL), "/dev/zero"];
  endpoint.send(JSON.stringify({ id: 2, method: "process/start", params: { processId: "p", argv, cwd: "file:///tmp", env: { PATH: "/usr/bin:/bin" }, tty: false } }));
  endpoint.pause();
  const blockedAt = await waitUntilSteady(() => childWritten(proc.pid) ?? Number.POSITIVE_INFINITY, "the child to block", { done: (n) => n >= TOTAL });
  endpoint.resume();
  await waitUntil(() => closed, 30_000, "process/closed").catch((e) => {
    throw new Error(`${e.message}; blockedAt ${blockedAt}, received ${received}, frames ${seqs.length}`);
  });

  expect(blockedAt).toBeLessThan(IN_FLIGHT_BOUND);
  expect(received).toBe(TOTAL);
  // One seq counter, contiguous from 1: every output chunk, then exited, then closed.
  expect(seqs).toEqual(seqs.map((_, i) => i + 1));
});
