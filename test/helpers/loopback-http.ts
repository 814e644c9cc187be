/**
 * The HTTP server under each loopback stand-in for a hosted service (fake Responses API, fake
 * ChatGPT backend): 127.0.0.1, an ephemeral port, and every request the stand-in does not know
 * recorded and answered 404, so a test can show what the client asked for beyond its script.
 */
export type LoopbackHttp = {
  /** `http://127.0.0.1:<port>` */
  origin: string;
  /** "METHOD /path" of each request `route` did not answer. */
  unexpected: string[];
  stop(): Promise<void>;
};

/** `route` answers a request it knows and returns undefined for any other. */
export function serveLoopback(route: (req: Request, url: URL, origin: string) => Response | undefined | Promise<Response | undefined>): LoopbackHttp {
  const unexpected: string[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const url = new URL(req.url);
      const answer = await route(req, url, `http://127.0.0.1:${server.port}`);
      if (answer) return answer;
      unexpected.push(`${req.method} ${url.pathname}`);
      return new Response("not found", { status: 404 });
    },
  });
  return { origin: `http://127.0.0.1:${server.port}`, unexpected, stop: async () => void (await server.stop(true)) };
}
