/**
 * A loopback WebSocket relay in front of an executor that records every text
 * frame both ways, so an end-to-end test can assert what a real client (the
 * Codex CLI) sent and what it was told — e.g. the `networkProxy` on
 * `process/start` and the `network/policyDecision` notifications.
 */

export type TappedFrame = { from: "client" | "executor"; message: Record<string, unknown> };

export type WsTap = {
  /** Point the client here. */
  url: string;
  /** Every JSON text frame relayed, in relay order. */
  frames: TappedFrame[];
  [Symbol.asyncDispose](): Promise<void>;
};

type Link = { upstream: WebSocket; pending: string[] | null };

export function startWsTap(executorUrl: string): WsTap {
  const frames: TappedFrame[] = [];
  const upstreams = new Set<WebSocket>();
  const record = (from: TappedFrame["from"], text: string) => {
    try {
      frames.push({ from, message: JSON.parse(text) as Record<string, unknown> });
    } catch {
      frames.push({ from, message: { unparsed: text } });
    }
  };
  const server = Bun.serve<Link>({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req, srv) {
      const upstream = new WebSocket(executorUrl);
      upstreams.add(upstream);
      if (srv.upgrade(req, { data: { upstream, pending: [] } })) return undefined;
      upstream.close();
      return new Response("WebSocket upgrade expected", { status: 400 });
    },
    websocket: {
      open(ws) {
        const link = ws.data;
        // Frames the client sends before the executor side is open wait in `pending`.
        link.upstream.onopen = () => {
          for (const text of link.pending ?? []) link.upstream.send(text);
          link.pending = null;
        };
        link.upstream.onmessage = (e) => {
          const text = String(e.data);
          record("executor", text);
          ws.send(text);
        };
        link.upstream.onclose = () => ws.close();
      },
      message(ws, data) {
        const text = String(data);
        record("client", text);
        if (ws.data.pending) ws.data.pending.push(text);
        else ws.data.upstream.send(text);
      },
      close(ws) {
        ws.data.upstream.close();
      },
    },
  });
  return {
    url: `ws://127.0.0.1:${server.port}`,
    frames,
    [Symbol.asyncDispose]: async () => {
      for (const u of upstreams) u.close();
      await server.stop(true);
    },
  };
}
