#!/usr/bin/env bun
/**
 * `bun bench/proxy-origin.ts BYTES`: the origin `bench/proxy.ts` downloads
 * from, in a process of its own: `GET /big` answers BYTES of `a`, anything
 * else `ok\n`, over keep-alive HTTP/1.1; prints its port. A raw socket
 * server writing one prebuilt body (about 1.4 GB/s to curl here), because an
 * origin in the bench's own thread (Bun.serve with a 256 MiB body, ~160 MiB/s
 * through any proxy) capped both executors' proxies at the same figure.
 */
import type { Socket } from "bun";

/** Largest write handed to the socket at once. */
const WRITE_BYTES = 1 << 20;

const body = Buffer.alloc(Number(process.argv[2]), 0x61);
const ok = Buffer.from("ok\n");
type Conn = { head: string; out: Buffer; at: number };

function flush(socket: Socket<Conn>): void {
  const c = socket.data;
  while (c.at < c.out.byteLength) {
    const n = socket.write(c.out.subarray(c.at, c.at + WRITE_BYTES));
    if (n <= 0) return;
    c.at += n;
  }
}

const server = Bun.listen<Conn>({
  hostname: "127.0.0.1",
  port: 0,
  socket: {
    open(socket) {
      socket.data = { head: "", out: ok, at: ok.byteLength };
    },
    data(socket, data) {
      const c = socket.data;
      c.head += data.toString("latin1");
      const end = c.head.indexOf("\r\n\r\n");
      if (end < 0) return;
      const payload = c.head.startsWith("GET /big ") || /^GET http:\/\/[^/]+\/big /.test(c.head) ? body : ok;
      c.head = c.head.slice(end + 4);
      socket.write(`HTTP/1.1 200 OK\r\ncontent-length: ${payload.byteLength}\r\n\r\n`);
      c.out = payload;
      c.at = 0;
      flush(socket);
    },
    drain: flush,
  },
});
console.log(server.port);
