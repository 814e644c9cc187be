/**
 * Relay-specific checks of the remote leg, beyond the scenario corpus: what
 * only a relay stream has (registry validation outcomes, message sizes
 * across Noise records, a reset stream, the per-stream inbound bound). Each
 * check writes a transcript per side; those are diffed like scenarios,
 * except the `countOnly` ones, whose figures are reported side by side (the
 * two executors differ there on purpose).
 */
import { answers, type Answer } from "../helpers/fake-registry.ts";
import type { RawClient } from "../helpers/rpc-client.ts";
import type { RelayFrame } from "../../src/remote/relay/frame.ts";
import type { RemoteServer } from "./remote-servers.ts";

export type RelayCheck = { name: string; countOnly?: boolean; run(server: RemoteServer, dirUri: string): Promise<string[]> };

const ENV = { PATH: "/usr/bin:/bin" };
/** How long to look for more frames after a stream's first answer (a reset that follows message 2). */
const SETTLE_MS = 500;
const PIPELINED = 200;

const describeFrame = (f: RelayFrame): string => {
  const b = f.body;
  if (b?.kind === "handshake") return `handshake ${b.payload.length} B`;
  if (b?.kind === "reset") return `reset ${JSON.stringify(b.reason)}`;
  return b?.kind ?? "(no body)";
};

/** Scripts one validate answer, opens a stream at the frame level, and records what the executor sent back for it. */
function validateCheck(name: string, answer: Answer): RelayCheck {
  return {
    name,
    async run({ registry, rendezvous, harness }) {
      registry.script("validate", answer);
      const asked = registry.requestsTo("validate").length;
      const streamId = crypto.randomUUID();
      const result = await harness.open(streamId);
      const count = rendezvous.framesFor(streamId).length;
      await rendezvous.waitFor(() => rendezvous.framesFor(streamId).length > count, "a further frame", SETTLE_MS).catch(() => {});
      const validate = registry.requestsTo("validate")[asked];
      const body = validate ? (JSON.parse(validate.body) as Record<string, unknown>) : {};
      return [
        `validate asked: ${validate ? `${Object.keys(body).sort().join(",")}; x-codex-noise-stream-id ${validate.headers["x-codex-noise-stream-id"] === streamId ? "= the stream" : "missing"}` : "no"}`,
        `message 1 answered: ${result.kind}`,
        `executor frames: ${rendezvous.framesFor(streamId).map(describeFrame).join(", ")}`,
      ];
    },
  };
}

const lastStream = (server: RemoteServer): string => server.rendezvous.fromHarness.at(-1)!.streamId;
const dataFrames = (frames: RelayFrame[], streamId: string) => frames.filter((f) => f.streamId === streamId && f.body?.kind === "data").length;
const show = (f: Record<string, unknown>) => JSON.stringify("error" in f ? { error: f.error } : { result: f.result });

async function ready(server: RemoteServer): Promise<RawClient> {
  const c = await server.connect();
  await c.initialize("conformance");
  return c;
}

export const RELAY_CHECKS: RelayCheck[] = [
  validateCheck("relay: validate {valid:false} → reset", answers.json({ valid: false })),
  validateCheck("relay: validate HTTP 500 → reset", answers.error(500, "internal", "registry down")),
  validateCheck("relay: validate HTTP 401 → message 2 with the rejection marker", answers.error(401, "unauthorized", "executor token expired")),
  {
    name: "relay: 300 KiB message spanning 60 KiB records, both ways",
    async run(server, dirUri) {
      const c = await ready(server);
      const streamId = lastStream(server);
      const data = Buffer.alloc(300 * 1024, "abcdefgh").toString("base64");
      const sent = dataFrames(server.rendezvous.fromHarness, streamId);
      const write = await c.call("fs/writeFile", { path: `${dirUri}/big.bin`, dataBase64: data });
      const got = dataFrames(server.rendezvous.received, streamId);
      const read = await c.call("fs/readFile", { path: `${dirUri}/big.bin` });
      const same = read.result?.dataBase64 === data;
      c.close();
      return [
        `fs/writeFile in ${dataFrames(server.rendezvous.fromHarness, streamId) - sent} harness records → ${show(write)}`,
        `fs/readFile → ${same ? `the same ${data.length} base64 chars` : show(read)} in ${dataFrames(server.rendezvous.received, streamId) - got} executor records`,
      ];
    },
  },
  {
    name: "relay: stream reset mid-process, session resumed on a new stream",
    async run(server, dirUri) {
      const first = await server.connect();
      const { sessionId } = await first.initialize("conformance");
      const start = { processId: "keep", argv: ["sh", "-c", "echo before; read x; echo after-$x"], cwd: dirUri, env: ENV, tty: false, pipeStdin: true };
      const started = await first.call("process/start", start);
      await first.waitFor((f) => f.method === "process/output");
      first.close(); // the harness resets the stream
      const second = await server.connect();
      const resumed = await second.call("initialize", { clientName: "conformance", resumeSessionId: sessionId });
      second.notify("initialized", {});
      const write = await second.call("process/write", { processId: "keep", chunk: Buffer.from("x\n").toString("base64"), writeId: "1" });
      await second.processDone("keep");
      const read = await second.ok("process/read", { processId: "keep" });
      second.close();
      return [
        `process/start → ${show(started)}`,
        `initialize {resumeSessionId} on a new stream → ${resumed.result?.sessionId === sessionId ? "the same session" : show(resumed)}`,
        `process/write → ${show(write)}`,
        `process/read → ${JSON.stringify({ ...read, chunks: read.chunks.map((ch: { chunk: string }) => Buffer.from(ch.chunk, "base64").toString()) })}`,
      ];
    },
  },
  {
    // fs/getMetadata: cheap, and no per-session cap (execbox holds at most 64 running processes per session) blurs the count.
    name: `relay: ${PIPELINED} fs/getMetadata pipelined on one stream`,
    countOnly: true,
    async run(server, dirUri) {
      const c = await ready(server);
      for (let i = 0; i < PIPELINED; i++) c.request("fs/getMetadata", { path: dirUri }, `pipe-${i}`);
      const answers = () => c.frames.filter((f) => typeof f.id === "string" && f.id.startsWith("pipe-"));
      await c.waitFor(() => answers().length === PIPELINED, 20_000, "every answer").catch(() => {});
      const errors = answers().filter((f) => "error" in f).length;
      const state = c.closed ? "then the stream was reset" : "the stream stayed open";
      c.close();
      return [`${answers().length} of ${PIPELINED} answered (${errors} errors), ${state}`];
    },
  },
];
