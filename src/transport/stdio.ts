/**
 * stdio transport: one JSON message per line in and out. Blank lines are
 * skipped, a trailing CR is tolerated, a last line without newline still
 * counts. EOF ends the only session (no detach window) and resolves `done`.
 */
import type { ExecServer } from "../server/exec-server.ts";
import type { SendResult } from "../server/flow.ts";

export async function serveStdio(exec: ExecServer): Promise<void> {
  const out = process.stdout;
  // While the connection has too much unhandled input, stdin is not read (the writer blocks on a full pipe).
  const gate: { paused: PromiseWithResolvers<void> | null } = { paused: null };
  const connection = exec.connect(
    {
      send(frame): SendResult {
        if (typeof frame === "string") return out.write(`${frame}\n`) ? "sent" : "congested";
        // The stream may write later, and a byte frame may be lent: copy it, newline included.
        frame.buf[frame.end] = 0x0a;
        return out.write(new Uint8Array(frame.buf.subarray(frame.start, frame.end + 1))) ? "sent" : "congested";
      },
      abort() {
        process.stdin.destroy();
      },
      pauseReceiving() {
        gate.paused ??= Promise.withResolvers<void>();
      },
      resumeReceiving() {
        gate.paused?.resolve();
        gate.paused = null;
      },
    },
    { parseErrorPrefix: "failed to parse JSON-RPC message from exec-server stdio: ", detachOnClose: false, transport: "stdio", peer: "stdio" },
  );
  out.on("drain", () => connection.drained());

  const decoder = new TextDecoder();
  // Parts of the line being received; joined only once its newline arrives, so
  // a 16 MiB line read in small chunks is not rescanned for every chunk.
  let parts: string[] = [];
  const deliver = (line: string) => {
    const text = line.endsWith("\r") ? line.slice(0, -1) : line;
    if (text.trim() !== "") connection.receive(text);
  };
  try {
    for await (const chunk of process.stdin) {
      let text = decoder.decode(chunk as Uint8Array, { stream: true });
      let nl: number;
      while ((nl = text.indexOf("\n")) !== -1) {
        parts.push(text.slice(0, nl));
        deliver(parts.join(""));
        parts = [];
        text = text.slice(nl + 1);
      }
      if (text) parts.push(text);
      if (gate.paused) await gate.paused.promise;
    }
  } catch {
    // stdin errors end the connection like EOF.
  }
  deliver(parts.join("") + decoder.decode());
  await connection.idle();
  await connection.closedByTransport("end of input");
}
