/** execbox's own RFC 6455 framing, byte for byte, through a raw TCP socket to a real server. */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { type Socket, connect } from "node:net";
import { type RunningServer, startServer } from "../helpers/server.ts";
import { waitUntil } from "../helpers/wait.ts";

setDefaultTimeout(30_000);

let server: RunningServer;
let port: number;
beforeAll(async () => {
  server = await startServer();
  port = Number(new URL(server.url.replace("ws://", "http://")).port);
});
afterAll(async () => {
  await server.stop("SIGKILL");
});

const UPGRADE =
  "GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";

type Frame = { fin: boolean; opcode: number; payload: Buffer };

/** A raw client: sends hand-made frames, parses what comes back. */
class RawWs {
  frames: Frame[] = [];
  ended = false;
  private buf = Buffer.alloc(0);
  private upgraded = false;
  private constructor(readonly sock: Socket) {}

  static async open(first: Buffer = Buffer.alloc(0)): Promise<RawWs> {
    const sock = connect(port, "127.0.0.1");
    const ws = new RawWs(sock);
    sock.on("data", (d: Buffer) => ws.onData(d));
    sock.on("close", () => (ws.ended = true));
    sock.write(Buffer.concat([Buffer.from(UPGRADE), first]));
    await waitUntil(() => ws.upgraded || ws.ended, 5_000, "upgrade");
    return ws;
  }

  send(opcode: number, payload: Buffer | string, { fin = true, masked = true } = {}): void {
    this.sock.write(frame(opcode, Buffer.from(payload), fin, masked));
  }

  texts(): string[] {
    return this.frames.filter((f) => f.opcode === 1).map((f) => f.payload.toString());
  }

  async waitFor(pred: (f: Frame) => boolean, what: string): Promise<Frame> {
    await waitUntil(() => this.frames.some(pred), 5_000, what);
    return this.frames.find(pred)!;
  }

  private onData(d: Buffer): void {
    this.buf = Buffer.concat([this.buf, d]);
    if (!this.upgraded) {
      const end = this.buf.indexOf("\r\n\r\n");
      if (end < 0) return;
      this.upgraded = this.buf.toString("latin1", 0, 12) === "HTTP/1.1 101";
      this.buf = this.buf.subarray(end + 4);
    }
    for (;;) {
      if (this.buf.length < 2) return;
      let len = this.buf[1]! & 0x7f;
      let at = 2;
      if (len === 126) [len, at] = [this.buf.readUInt16BE(2), 4];
      else if (len === 127) [len, at] = [Number(this.buf.readBigUInt64BE(2)), 10];
      if (this.buf.length < at + len) return;
      this.frames.push({ fin: (this.buf[0]! & 0x80) !== 0, opcode: this.buf[0]! & 0x0f, payload: this.buf.subarray(at, at + len) });
      this.buf = this.buf.subarray(at + len);
    }
  }
}

function frame(opcode: number, payload: Buffer, fin: boolean, masked: boolean): Buffer {
  const mask = Buffer.from([0x12, 0x34, 0x56, 0x78]);
  const n = payload.length;
  const head = n < 126 ? Buffer.from([0, n]) : n < 65536 ? Buffer.from([0, 126, n >> 8, n & 0xff]) : Buffer.alloc(10);
  if (n >= 65536) {
    head[1] = 127;
    head.writeBigUInt64BE(BigInt(n), 2);
  }
  head[0] = (fin ? 0x80 : 0) | opcode;
  if (!masked) return Buffer.concat([head, payload]);
  head[1]! |= 0x80;
  return Buffer.concat([head, mask, Buffer.from(payload.map((b, i) => b ^ mask[i & 3]!))]);
}

const STATUS = '{"id":1,"method":"environment/status"}';
const STATUS_REPLY = '{"error":{"code":-32600,"message":"client must call initialize before using environment status methods"},"id":1}';
const closeCode = (f: Frame) => f.payload.readUInt16BE(0);

test("a text message split into fragments is one message; the reply is one unmasked final text frame", async () => {
  const ws = await RawWs.open();
  ws.send(1, STATUS.slice(0, 5), { fin: false });
  ws.send(0, STATUS.slice(5, 20), { fin: false });
  ws.send(9, "mid-message ping"); // control frames may come between fragments
  ws.send(0, STATUS.slice(20));
  const reply = await ws.waitFor((f) => f.opcode === 1, "the reply");
  expect(reply.fin).toBe(true);
  expect(reply.payload.toString()).toBe(STATUS_REPLY);
  const pong = ws.frames.find((f) => f.opcode === 10)!;
  expect(pong.payload.toString()).toBe("mid-message ping");
  ws.sock.destroy();
});

test("a frame pipelined with the upgrade request is read", async () => {
  const ws = await RawWs.open(frame(1, Buffer.from(STATUS), true, true));
  await ws.waitFor((f) => f.opcode === 1, "the reply");
  expect(ws.texts()).toEqual([STATUS_REPLY]);
  ws.sock.destroy();
});

test("a close frame is answered with the same code, then the socket ends", async () => {
  const ws = await RawWs.open();
  ws.send(8, Buffer.from([0x0f, 0xa0])); // 4000
  const close = await ws.waitFor((f) => f.opcode === 8, "close reply");
  expect(closeCode(close)).toBe(4000);
  await waitUntil(() => ws.ended, 5_000, "socket end");
});

for (const [name, send, code] of [
  ["an unmasked frame", (ws: RawWs) => ws.send(1, STATUS, { masked: false }), 1002],
  ["reserved bits", (ws: RawWs) => ws.sock.write(Buffer.from([0xc1, 0x80, 0, 0, 0, 0])), 1002],
  ["a continuation without a message", (ws: RawWs) => ws.send(0, "x"), 1002],
  ["a fragmented ping", (ws: RawWs) => ws.send(9, "x", { fin: false }), 1002],
  ["invalid UTF-8 in a text frame", (ws: RawWs) => ws.send(1, Buffer.from([0x7b, 0xff, 0x7d])), 1007],
] as const) {
  test(`${name}: close ${code}, socket ends, the server keeps serving`, async () => {
    const ws = await RawWs.open();
    send(ws);
    const close = await ws.waitFor((f) => f.opcode === 8, "close frame");
    expect(closeCode(close)).toBe(code);
    await waitUntil(() => ws.ended, 5_000, "socket end");
    const next = await RawWs.open(frame(1, Buffer.from(STATUS), true, true));
    await next.waitFor((f) => f.opcode === 1, "a reply on a new connection");
    next.sock.destroy();
  });
}

test("a request head over 16 KiB is 431 and the connection closes", async () => {
  const sock = connect(port, "127.0.0.1");
  let out = "";
  let ended = false;
  sock.on("data", (d) => (out += d.toString("latin1")));
  sock.on("close", () => (ended = true));
  sock.write(`GET / HTTP/1.1\r\nHost: x\r\nX-Pad: ${"a".repeat(17 * 1024)}\r\n\r\n`);
  await waitUntil(() => ended, 5_000, "close");
  expect(out.split("\r\n")[0]).toBe("HTTP/1.1 431 Request Header Fields Too Large");
});
