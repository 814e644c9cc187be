/**
 * `execbox forward`: listens on 127.0.0.1:LOCAL_PORT and carries every
 * accepted connection through its own tunnel to REMOTE_HOST:REMOTE_PORT on
 * the executor, both ways, with back-pressure each way: a local socket is
 * paused while FORWARD_WRITES_IN_FLIGHT of its writes are unanswered, and a
 * tunnel's data waits (unacknowledged, so the executor pauses the port) while
 * the local socket cannot take it. Local reads that arrive while writes are
 * in flight are joined into one write (up to a tunnel chunk), so a fast
 * local writer costs few requests.
 */
import type { Socket } from "bun";
import { type ExecboxClient, type RemoteTunnel, supportsExtension } from "../client/index.ts";
import { connectOrReport, say } from "./exec.ts";
import { ExecExit } from "./exec-failure.ts";
import type { ForwardOptions, ForwardSpec } from "./forward-args.ts";
import { writeQueued } from "../tunnel/write-queue.ts";
import { releaseBuffer } from "../protocol/frame-memory.ts";
import { MAX_TUNNEL_CHUNK_BYTES } from "../tunnel/limits.ts";

/**
 * `tunnel/write`s one local connection may have unanswered before it is
 * paused: enough to keep the executor busy while an answer travels back
 * (4 × a 64 KiB read), little enough to bound what this process holds.
 */
export const FORWARD_WRITES_IN_FLIGHT = 4;

/** One accepted local connection and its tunnel. */
type Local = {
  tunnel: RemoteTunnel | null;
  inFlight: number;
  /** Local bytes not yet sent as a write (joined into the next one). */
  toSend: Uint8Array[];
  toSendBytes: number;
  /** Tunnel bytes the local socket has not taken yet. */
  unwritten: Uint8Array[];
  drained: (() => void) | null;
  /** The local side sent EOF. */
  ended: boolean;
  /** The local socket is closed: the port's bytes have nowhere to go. */
  closed: boolean;
};

export async function runForward(options: ForwardOptions): Promise<number> {
  const client = await connectOrReport(options, "execbox-forward");
  if (typeof client === "number") return client;
  const { spec } = options;
  if (!supportsExtension(client.environmentInfo, "tunnel")) {
    say(`the executor at ${options.url} does not support port forwarding (it does not advertise the \`tunnel\` extension)`);
    await client.close();
    return 1;
  }
  let listener: Bun.TCPSocketListener<Local>;
  try {
    listener = Bun.listen<Local>({ hostname: "127.0.0.1", port: spec.localPort, allowHalfOpen: true, socket: handlers(client, spec) });
  } catch (e) {
    say(`cannot listen on 127.0.0.1:${spec.localPort}: ${e instanceof Error ? e.message : String(e)}`);
    await client.close();
    return 1;
  }
  process.stdout.write(`listening on 127.0.0.1:${listener.port}\n`);
  const code = await new Promise<number>((resolve) => {
    for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.once(signal, () => resolve(0));
    client.on("state", (state, error) => {
      if (state === "recovering") say("connection lost; reconnecting… (open tunnels are closed)");
      else if (state === "connected") say("reconnected");
      else if (state === "failed") {
        say(error?.message ?? "connection lost");
        resolve(ExecExit.transport);
      }
    });
  });
  listener.stop(true);
  await client.close();
  return code;
}

function handlers(client: ExecboxClient, spec: ForwardSpec): Bun.SocketHandler<Local> {
  return {
    open(socket) {
      socket.data = { tunnel: null, inFlight: 0, toSend: [], toSendBytes: 0, unwritten: [], drained: null, ended: false, closed: false };
      // Nothing is read until the tunnel exists.
      socket.pause();
      void client.openTunnel({ host: spec.remoteHost, port: spec.remotePort }).then(
        (tunnel) => join(socket, tunnel, spec),
        (e) => {
          say(`cannot open a tunnel to ${spec.remoteHost}:${spec.remotePort}: ${e instanceof Error ? e.message : String(e)}`);
          socket.end();
        },
      );
    },
    data(socket, data) {
      const local = socket.data;
      if (!local.tunnel) return;
      // Sent now when nothing waits before it (binary tunnels), else queued: Bun gives every
      // data callback a buffer of its own (never reused), so it is kept without a copy.
      if (local.toSendBytes === 0 && local.tunnel.writeNow(data)) return;
      local.toSend.push(data);
      local.toSendBytes += data.byteLength;
      sendLocal(socket);
    },
    drain(socket) {
      flushLocal(socket);
    },
    end(socket) {
      // The local side sent EOF: pass it on after its bytes (the requests go out in order).
      const local = socket.data;
      local.ended = true;
      if (!local.tunnel) return;
      void flushThenEnd(socket, local.tunnel);
    },
    close(socket) {
      const local = socket.data;
      const sentEof = local.ended;
      const lost = local.unwritten.length > 0;
      local.ended = true;
      local.closed = true;
      // A data handler waiting for this socket to drain would wait for ever.
      local.unwritten.length = 0;
      local.drained?.();
      // After the local side's EOF its last bytes may still be on their way to the port: the tunnel ends when the port closes
      // (or sends more, see join). Without one (reset, error), or with the port's bytes left untaken, it is closed now.
      if (!sentEof || lost) void local.tunnel?.close().catch(() => {});
    },
  };
}

function join(socket: Socket<Local>, tunnel: RemoteTunnel, spec: ForwardSpec): void {
  const local = socket.data;
  local.tunnel = tunnel;
  if (local.ended) return void tunnel.close().catch(() => {});
  // A binary tunnel's chunk is a view of its own WebSocket message: once written, that buffer is freed now, not at a collection.
  const written = (chunk: Uint8Array) => void (tunnel.binary && releaseBuffer(new Uint8Array(chunk.buffer)));
  tunnel.onData((chunk) => {
    // Bytes for a closed socket: as TCP answers them with a reset, the tunnel is closed (else they would wait for a drain that never comes, the port paused for ever).
    if (local.closed) return void tunnel.close().catch(() => {});
    local.unwritten.push(chunk);
    flushLocal(socket);
    if (local.unwritten.length === 0) return written(chunk);
    // Not taken yet: the tunnel's next chunk (and its ack) waits for the local reader.
    return new Promise<void>((resolve) => (local.drained = () => (written(chunk), resolve())));
  });
  tunnel.onEof(() => socket.shutdown());
  void tunnel.closed.then((end) => {
    if (end.reason === "error" || end.reason === "connectionLost") say(`tunnel to ${spec.remoteHost}:${spec.remotePort} closed: ${end.error}`);
    local.ended = true;
    socket.end();
  });
  socket.resume();
}

/** Sends what the local side wrote as one tunnel write, unless enough are in flight; pauses the local socket while a full one waits. */
function sendLocal(socket: Socket<Local>): void {
  const local = socket.data;
  if (local.inFlight < FORWARD_WRITES_IN_FLIGHT && local.toSendBytes > 0) {
    const bytes = local.toSend.length === 1 ? local.toSend[0]! : Buffer.concat(local.toSend);
    local.toSend = [];
    local.toSendBytes = 0;
    local.inFlight++;
    void local.tunnel!.write(bytes).then(
      () => {
        local.inFlight--;
        sendLocal(socket);
      },
      () => socket.end(),
    );
  }
  if (local.toSendBytes >= MAX_TUNNEL_CHUNK_BYTES) socket.pause();
  else if (!local.ended) socket.resume();
}

/** Writes what the local socket takes; once all is taken, lets the tunnel go on. */
function flushLocal(socket: Socket<Local>): void {
  const local = socket.data;
  if (!writeQueued(socket, local.unwritten)) return;
  const drained = local.drained;
  local.drained = null;
  drained?.();
}

/** Sends every byte still held (the writes go out in order), then EOF. */
async function flushThenEnd(socket: Socket<Local>, tunnel: RemoteTunnel): Promise<void> {
  const local = socket.data;
  const rest = local.toSendBytes > 0 ? Buffer.concat(local.toSend) : undefined;
  local.toSend = [];
  local.toSendBytes = 0;
  try {
    if (rest) void tunnel.write(rest).catch(() => {});
    await tunnel.end();
  } catch {
    // The tunnel closed meanwhile; its close handler ends the local side.
  }
}
