/** Client stream helpers: openFile over fs/readBlock, and http/request with a streamed body. */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  type ExecboxClient,
  ExecboxHttpBodyError,
  ExecboxRpcError,
  FILE_BLOCK_BYTES,
  connectWebSocket,
} from "../../src/client/index.ts";
import { type RunningServer, startServer, tempDir } from "../helpers/server.ts";

// Integration tests start real servers and processes; each wait inside has its own deadline.
setDefaultTimeout(30_000);

const dir = tempDir();
const DATA = randomBytes(3.5 * 1024 * 1024);
let server: RunningServer;
let client: ExecboxClient;
let http: ReturnType<typeof Bun.serve>;
let base: string;
/**
 * Sends two chunks of a chunked body, then, a moment later (a server failing mid-body), ends the
 * connection with a FIN and no last chunk. (Bun's fetch discards body bytes it has not handed out when
 * the connection fails in the same instant; execbox reads ahead so that any later failure keeps them.)
 */
const BROKEN_BODY_FAILS_AFTER_MS = 200;
let broken: import("bun").TCPSocketListener<undefined>;

beforeAll(async () => {
  writeFileSync(join(dir.path, "big.bin"), DATA);
  server = await startServer();
  client = await connectWebSocket(server.url);
  http = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const path = new URL(req.url).pathname;
      if (path === "/hello") return new Response("hello", { headers: { "x-test": "1" } });
      if (path === "/nocontent") return new Response(null, { status: 204 });
      let i = 0;
      return new Response(
        new ReadableStream({
          async pull(ctl) {
            if (i === 40) return ctl.close();
            ctl.enqueue(new TextEncoder().encode(`chunk${i++};`));
            await Bun.sleep(1);
          },
        }),
      );
    },
  });
  base = `http://127.0.0.1:${http.port}`;
  broken = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      data(socket) {
        socket.write("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n7\r\nchunk0;\r\n7\r\nchunk1;\r\n");
        setTimeout(() => socket.end(), BROKEN_BODY_FAILS_AFTER_MS);
      },
    },
  });
});
afterAll(async () => {
  await client?.close();
  // SIGTERM: the executor kills every process it still runs (detached sessions included) before exiting.
  await server?.stop("SIGTERM");
  http?.stop(true);
  broken?.stop(true);
  dir[Symbol.dispose]();
});

describe("openFile", () => {
  test("a 3.5 MiB file comes back byte-exact in 1 MiB blocks, and the handle is closed at the end", async () => {
    const file = await client.openFile(join(dir.path, "big.bin"));
    const blocks: Uint8Array[] = [];
    for await (const block of file) blocks.push(block);
    expect(blocks.map((b) => b.byteLength)).toEqual([FILE_BLOCK_BYTES, FILE_BLOCK_BYTES, FILE_BLOCK_BYTES, FILE_BLOCK_BYTES / 2]);
    expect(Buffer.concat(blocks).equals(DATA)).toBe(true);
    const after = await client.call("fs/readBlock", { handleId: file.handleId, offset: 0, len: 1 }).catch((e) => e);
    expect([after.code, after.message]).toEqual([-32004, `unknown file handle \`${file.handleId}\``]);
  });

  test("breaking out of the loop closes the handle; readFile and file: URIs work; a missing file rejects", async () => {
    const file = await client.openFile(`${dir.uri}/big.bin`, 1000);
    for await (const block of file) {
      expect(Buffer.from(block).equals(DATA.subarray(0, 1000))).toBe(true);
      break;
    }
    expect(await client.call("fs/readBlock", { handleId: file.handleId, offset: 0, len: 1 }).catch((e) => e.code)).toBe(-32004);
    expect(Buffer.from(await client.readFile(`${dir.uri}/big.bin`)).equals(DATA)).toBe(true);
    writeFileSync(join(dir.path, "empty"), "");
    expect((await client.readFile(join(dir.path, "empty"))).byteLength).toBe(0);
    const missing = await client.openFile(join(dir.path, "nope")).catch((e) => e);
    expect(missing).toBeInstanceOf(ExecboxRpcError);
    expect(missing.code).toBe(-32004);
  });
});

describe("httpRequest", () => {
  test("buffered: status, headers and a one-block body", async () => {
    const r = await client.httpRequest({ method: "GET", url: `${base}/hello` });
    expect(r.status).toBe(200);
    expect(r.headers).toContainEqual({ name: "x-test", value: "1" });
    expect(await r.text()).toBe("hello");
  });

  test("streamed: the deltas in seq order, ending at done", async () => {
    const r = await client.httpRequest({ method: "GET", url: `${base}/stream`, streamResponse: true });
    expect(r.status).toBe(200);
    const parts: string[] = [];
    for await (const part of r.body) parts.push(Buffer.from(part).toString());
    expect(parts.join("")).toBe(Array.from({ length: 40 }, (_, i) => `chunk${i};`).join(""));
    const empty = await client.httpRequest({ method: "GET", url: `${base}/nocontent`, streamResponse: true, requestId: "n" });
    expect([empty.status, (await empty.bytes()).byteLength]).toEqual([204, 0]);
  });

  test("streamed: a body that fails throws ExecboxHttpBodyError after the bytes that came", async () => {
    const r = await client.httpRequest({ method: "GET", url: `http://127.0.0.1:${broken.port}/broken`, streamResponse: true, requestId: "b" });
    let got = "";
    const err = await (async () => {
      for await (const part of r.body) got += Buffer.from(part).toString();
    })().catch((e) => e);
    expect(err).toBeInstanceOf(ExecboxHttpBodyError);
    expect(err.requestId).toBe("b");
    expect(got).toBe("chunk0;chunk1;");
  });
});
