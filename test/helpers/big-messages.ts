/**
 * A memory workload of large-but-legal messages (several MiB each: fs/writeFile
 * with big base64, process/write with big chunks, big unknown fields, some in
 * many continuation frames) mixed with large and small malformed ones. Every
 * message gets exactly one answer (malformed ones with id -1), so a client
 * knows when the server has handled them all. Used by the memory fuzz test and
 * `bench/big-messages.ts`; writes go only to the `dir` and process the caller owns.
 */
import { RawWs } from "./raw-ws.ts";
import { waitUntil } from "./wait.ts";

const MiB = 1 << 20;
/** Largest message generated: under the 16 MiB limit of both servers. */
const MAX_MESSAGE_BYTES = 15 * MiB;

/** What the answer must be: a result, or an error code whose message ends with `messageEnd`. */
export type Expected = { result: unknown } | { code: number; messageEnd: string };

export type BigMessage = { kind: string; bytes: Buffer; fragments: number; expected?: Expected };

export type Workload = {
  /** Where fs/writeFile writes (`file://` URI of a temp dir the caller owns). */
  dirUri: string;
  /** A running `pipeStdin` process (`cat > /dev/null`) that process/write feeds. */
  processId: string;
  seed: number;
  /** Stop once the messages add up to this many bytes. */
  totalBytes: number;
  minBytes?: number;
};

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

/** `n` bytes of valid base64 text (n a multiple of 4). */
function base64Text(n: number, r: () => number): string {
  const raw = Buffer.alloc((n / 4) * 3);
  for (let i = 0; i < raw.length; i += 4096) raw[i] = Math.floor(r() * 256);
  return raw.toString("base64");
}

type Make = (id: number, size: number, w: Workload, r: () => number) => [string, Expected];

const ready = { result: { status: "ready" } };

/** Legal requests: each is answered with a result. */
const LEGAL: [string, Make][] = [
  ["fs/writeFile", (id, size, w, r) => [`{"id":${id},"method":"fs/writeFile","params":{"path":"${w.dirUri}/f${id % 4}","dataBase64":"${base64Text(size & ~3, r)}"}}`, { result: {} }]],
  ["process/write", (id, size, w, r) => [`{"id":${id},"method":"process/write","params":{"processId":"${w.processId}","writeId":"w${id}","chunk":"${base64Text(size & ~3, r)}"}}`, { result: { status: "accepted" } }]],
  ["unknown field", (id, size) => [`{"id":${id},"method":"environment/status","params":null,"pad":"${"x".repeat(size)}"}`, ready]],
  // Non-Latin-1 text: two bytes per character in a JS string.
  ["unknown field, non-Latin-1", (id, size) => [`{"id":${id},"pad":["${"€".repeat(Math.floor(size / 3))}"],"method":"environment/status"}`, ready]],
];

/** Malformed big messages: each is answered with an error. */
const MALFORMED: [string, Make][] = [
  ["bad base64 in fs/writeFile", (id, size, w, r) => [
    `{"id":${id},"method":"fs/writeFile","params":{"path":"${w.dirUri}/bad","dataBase64":"${base64Text(size & ~3, r)}!"}}`,
    { code: -32600, messageEnd: `dataBase64: Invalid symbol 33, offset ${size & ~3}.` },
  ]],
  ["bad base64 in process/write", (id, size, w, r) => [
    `{"id":${id},"method":"process/write","params":{"processId":"${w.processId}","writeId":"b${id}","chunk":"!${base64Text(size & ~3, r)}"}}`,
    { code: -32602, messageEnd: "Invalid symbol 33, offset 0." },
  ]],
  ["truncated JSON", (id, size) => {
    const text = `{"id":${id},"method":"environment/status","pad":"${"y".repeat(size)}`;
    return [text, { code: -32600, messageEnd: `: EOF while parsing a string at line 1 column ${text.length}` }];
  }],
  ["millions of values", (id, size) => [`{"id":${id},"method":"environment/status","pad":[${"1,".repeat(size / 2)}0]}`, { code: -32600, messageEnd: ": more than 262144 JSON values in one message" }]],
];

const SMALL_MALFORMED: [string, Expected][] = [
  ["{", { code: -32600, messageEnd: ": EOF while parsing an object at line 1 column 1" }],
  ["[1,2]", { code: -32600, messageEnd: ": expected a JSON-RPC object" }],
  ['{"id":1}', { code: -32600, messageEnd: ": missing field `error`" }],
  ['{"method":7,"id":2}', { code: -32600, messageEnd: ": invalid type: number, expected a string" }],
  ["nul", { code: -32600, messageEnd: ": EOF while parsing a value at line 1 column 3" }],
];

/** The messages of one workload, in sending order. */
export function bigMessages(w: Workload): BigMessage[] {
  const r = rng(w.seed);
  const min = w.minBytes ?? 4 * MiB;
  const out: BigMessage[] = [];
  let total = 0;
  for (let id = 1000; total < w.totalBytes; id++) {
    const size = min + Math.floor(r() * (MAX_MESSAGE_BYTES - min - 4096));
    const [kind, make] = r() < 0.7 ? LEGAL[Math.floor(r() * LEGAL.length)]! : MALFORMED[Math.floor(r() * MALFORMED.length)]!;
    const [text, expected] = make(id, size, w, r);
    const bytes = Buffer.from(text);
    // A third arrive in many continuation frames (up to 1,000 of them).
    const fragments = r() < 0.35 ? 2 + Math.floor(r() * 999) : 1;
    out.push({ kind, bytes, fragments, expected });
    const [small, smallExpected] = SMALL_MALFORMED[id % SMALL_MALFORMED.length]!;
    out.push({ kind: "small malformed", bytes: Buffer.from(small), fragments: 1, expected: smallExpected });
    total += bytes.length;
  }
  return out;
}

export function sendMessage(ws: RawWs, m: BigMessage): void {
  if (m.fragments > 1) ws.sendFragmented(0x1, m.bytes, m.fragments);
  else ws.send(0x1, m.bytes);
}

/**
 * Sends `messages` on an initialized connection, all at once (the client
 * queues what the server does not read yet), and waits until each is
 * answered. Returns the answers' `{id, error?}` in arrival order.
 */
export type Answer = { id: unknown; result?: unknown; error?: { code: number; message: string } };

export async function sendAndAwaitAnswers(ws: RawWs, messages: BigMessage[], timeoutMs: number): Promise<Answer[]> {
  const answers: Answer[] = [];
  const previous = ws.onText;
  ws.onText = (text) => {
    const m = JSON.parse(text) as Answer;
    if ("id" in m) answers.push(m);
    else previous(text);
  };
  for (const m of messages) sendMessage(ws, m);
  await waitUntil(() => answers.length >= messages.length || ws.ended !== null, timeoutMs, `${messages.length} answers`);
  ws.onText = previous;
  if (answers.length < messages.length) throw new Error(`connection ended (${ws.ended}) after ${answers.length} of ${messages.length} answers`);
  return answers;
}

/** Answers that differ from what their message expects (answers come in order: one request at a time). */
export function unexpectedAnswers(messages: BigMessage[], answers: Answer[]): string[] {
  const wrong: string[] = [];
  messages.forEach((m, i) => {
    const a = answers[i];
    const e = m.expected;
    if (!e || !a) return void (a || wrong.push(`${m.kind}: no answer`));
    const ok = "result" in e ? Bun.deepEquals(a.result, e.result) : a.error?.code === e.code && a.error.message.endsWith(e.messageEnd);
    if (!ok) wrong.push(`${m.kind}: ${JSON.stringify(a).slice(0, 300)}`);
  });
  return wrong;
}

/** initialize + initialized on a raw connection. */
export async function initializeRaw(ws: RawWs, clientName: string): Promise<void> {
  let answered = false;
  ws.onText = (text) => void (text.includes('"sessionId"') && (answered = true));
  ws.text(JSON.stringify({ id: 0, method: "initialize", params: { clientName } }));
  await waitUntil(() => answered || ws.ended !== null, 10_000, "initialize");
  if (!answered) throw new Error(`connection ended during initialize: ${ws.ended}`);
  ws.text(JSON.stringify({ method: "initialized", params: {} }));
}

/** Starts `cat > /dev/null` with a writable stdin for process/write to feed. */
export async function startSink(ws: RawWs, processId: string): Promise<void> {
  let started = false;
  const previous = ws.onText;
  ws.onText = (text) => (text.includes('"sandboxType"') ? (started = true) : previous(text));
  const params = { processId, argv: ["/bin/sh", "-c", "cat > /dev/null"], cwd: "file:///tmp", env: { PATH: "/usr/bin:/bin" }, tty: false, pipeStdin: true };
  ws.text(JSON.stringify({ id: 1, method: "process/start", params }));
  await waitUntil(() => started || ws.ended !== null, 10_000, "process/start");
  ws.onText = previous;
  if (!started) throw new Error(`process/start failed: ${ws.ended}`);
}
