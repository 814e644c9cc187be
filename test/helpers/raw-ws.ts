/**
 * A WebSocket client on a raw TCP socket (own HTTP upgrade without Origin,
 * masked frames) that can stop reading: while paused nothing is read behind
 * its back, so the server meets real back-pressure. Used by the slow-client
 * benchmark and the flow-control tests.
 */
import { createHash, randomBytes } from "node:crypto";
import type { Socket } from "bun";

const CONNECT_TIMEOUT_MS = 10_000;

/** WebSocket client frames over a raw TCP socket; reads only while not paused. */
export class RawWs {
  private sock!: Socket<undefined>;
  private ready!: { resolve(): void; reject(e: Error): void };
  private head: string | null = ""; // The HTTP response head until the 101 is in.
  private buf = Buffer.alloc(1 << 20); private len = 0; private frag: Buffer[] = []; private out: Buffer[] = [];
  ended: string | null = null; pings = 0; fragmented = 0;
  onText: (text: string) => void = () => {};
  onEnd: (why: string) => void = () => {};

  static async connect(url: string): Promise<RawWs> {
    const [u, ws, key] = [new URL(url), new RawWs(), randomBytes(16).toString("base64")];
    const opened = new Promise<void>((resolve, reject) => (ws.ready = { resolve, reject }));
    ws.sock = await Bun.connect({ hostname: u.hostname, port: Number(u.port), socket: {
      data: (_s, d) => ws.data(d, key), drain: () => ws.flush(),
      close: () => ws.end("TCP connection closed by the server"), error: (_s, e) => ws.end(`socket error: ${e.message}`) } });
    ws.sock.write(`GET / HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    let timer: Timer | undefined;
    const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error("websocket upgrade timed out")), CONNECT_TIMEOUT_MS)));
    await Promise.race([opened, timeout]).finally(() => clearTimeout(timer));
    return ws;
  }

  /** Bytes this client has framed that its socket has not taken yet (the server is not reading). */
  get queuedBytes(): number {
    return this.out.reduce((n, b) => n + b.length, 0);
  }

  pause = () => this.sock.pause();
  resume = () => this.sock.resume();
  text = (s: string) => this.send(0x1, Buffer.from(s));
  close(): void {
    this.ended ??= "closed by client";
    this.sock.end();
  }

  /** One masked frame (FIN set unless `fin` is false: a fragment, continued with opcode 0). */
  send(opcode: number, payload: Buffer, fin = true): void {
    this.out.push(RawWs.frame(opcode, payload, fin));
    this.flush();
  }

  /** Many whole messages written as one buffer, so the server reads them in a few large reads. */
  sendMany(messages: { opcode: number; payload: Buffer }[]): void {
    this.out.push(Buffer.concat(messages.map((m) => RawWs.frame(m.opcode, m.payload, true))));
    this.flush();
  }

  private static frame(opcode: number, payload: Buffer, fin: boolean): Buffer {
    const n = payload.length;
    const hl = n < 126 ? 2 : n < 65536 ? 4 : 10;
    const [f, mask] = [Buffer.alloc(hl + 4 + n), randomBytes(4)];
    [f[0], f[1]] = [(fin ? 0x80 : 0) | opcode, 0x80 | (n < 126 ? n : n < 65536 ? 126 : 127)];
    if (hl > 2) void (hl === 4 ? f.writeUInt16BE(n, 2) : f.writeBigUInt64BE(BigInt(n), 2));
    mask.copy(f, hl);
    for (let i = 0; i < n; i++) f[hl + 4 + i] = payload[i]! ^ mask[i & 3]!;
    return f;
  }

  /** One message split into `pieces` frames: the first with `opcode`, the rest continuations, FIN on the last. */
  sendFragmented(opcode: number, payload: Buffer, pieces: number): void {
    const size = Math.ceil(payload.length / pieces);
    for (let off = 0, op = opcode; off < payload.length || op === opcode; off += size, op = 0x0) {
      this.send(op, payload.subarray(off, off + size), off + size >= payload.length);
    }
  }

  private flush(): void {
    for (let b = this.out[0]; b && this.ended === null; b = this.out[0]) {
      const n = this.sock.write(b);
      if (n < b.length) return void (this.out[0] = b.subarray(Math.max(n, 0)));
      this.out.shift();
    }
  }

  private end(why: string): void {
    if (this.ended !== null) return;
    this.ended = why;
    this.ready.reject(new Error(why));
    this.onEnd(why);
  }

  private data(d: Buffer, key: string): void {
    if (this.head !== null) {
      this.head += d.toString("latin1");
      const e = this.head.indexOf("\r\n\r\n");
      if (e < 0) return;
      const accept = createHash("sha1").update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest("base64").toLowerCase();
      if (!/^HTTP\/1\.1 101 /.test(this.head) || !this.head.slice(0, e + 2).toLowerCase().includes(`\r\nsec-websocket-accept: ${accept}\r\n`)) {
        return this.end(`upgrade refused: ${this.head.slice(0, 300)}`);
      }
      [d, this.head] = [Buffer.from(this.head.slice(e + 4), "latin1"), null];
      this.ready.resolve();
    }
    if (this.len + d.length > this.buf.length) this.buf = Buffer.concat([this.buf.subarray(0, this.len)], 2 * (this.len + d.length));
    this.len += d.copy(this.buf, this.len);
    let off = 0; // Handle every complete frame, then move the remainder to the front.
    for (const b = this.buf; this.len - off >= 2 && this.ended === null; ) {
      if (b[off + 1]! & 0x80) return this.end("protocol error: masked server frame");
      const l7 = b[off + 1]! & 0x7f;
      const hl = l7 === 126 ? 4 : l7 === 127 ? 10 : 2;
      const n = this.len - off < hl ? Infinity : l7 === 126 ? b.readUInt16BE(off + 2) : l7 === 127 ? Number(b.readBigUInt64BE(off + 2)) : l7;
      if (this.len - off < hl + n) break;
      this.frame((b[off]! & 0x80) !== 0, b[off]! & 0x0f, b.subarray(off + hl, off + hl + n));
      off += hl + n;
    }
    this.buf.copy(this.buf, 0, off, this.len);
    this.len -= off;
  }

  /** `payload` is only valid during the call (the buffer is reused). */
  private frame(fin: boolean, op: number, payload: Buffer): void {
    if (op === 0x9) {
      this.pings++;
      this.send(0xa, payload);
    } else if (op === 0x8) {
      this.send(0x8, payload.subarray(0, 2));
      this.end(`close frame ${payload.length >= 2 ? payload.readUInt16BE(0) : 1005} ${payload.subarray(2).toString()}`.trim());
    } else if (op <= 0x2) {
      if (op !== 0x0) this.frag = [];
      if (fin && this.frag.length === 0) return this.onText(payload.toString("utf8"));
      this.frag.push(Buffer.from(payload));
      if (!fin) return;
      this.fragmented++;
      this.onText(Buffer.concat(this.frag.splice(0)).toString("utf8"));
    }
  }
}
