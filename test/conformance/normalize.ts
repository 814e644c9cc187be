/**
 * Turning raw frames into comparable transcript text. Everything that
 * legitimately differs between two correct executors (ids of sessions, temp
 * paths, ports, build identity, chunk boundaries, racy stdout/stderr
 * interleaving) is masked or summarized here; everything else is kept so that
 * a difference in it shows up in the diff.
 */

/** Marker for integers beyond 2^53 so they survive JSON.parse and are re-emitted verbatim. */
const BIG = "#big#";

/**
 * JSON.parse that keeps unsafe integers exact: the reference echoes ids such
 * as 9007199254740993, which a plain JSON.parse would silently round.
 */
export function parseExact(text: string): unknown {
  let out = "";
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      out += c;
      if (c === "\\") out += text[++i] ?? "";
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') {
      inString = true;
      out += c;
      continue;
    }
    const m = /^-?\d+(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 64));
    if (m && (c === "-" || (c >= "0" && c <= "9"))) {
      const tok = m[0];
      const unsafe = !m[1] && !m[2] && !Number.isSafeInteger(Number(tok));
      out += unsafe ? `"${BIG}${tok}"` : tok;
      i += tok.length - 1;
      continue;
    }
    out += c;
  }
  return JSON.parse(out);
}

/** Renders a value as one line of JSON (keys sorted unless asked not to), with big ints restored. */
export function render(value: unknown, keepKeyOrder = false): string {
  const text = JSON.stringify(keepKeyOrder ? value : sortKeys(value));
  return (text ?? "undefined").replace(new RegExp(`"${BIG}(-?\\d+)"`, "g"), "$1");
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === "object") {
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
    );
  }
  return v;
}

/** Bytes as readable text: UTF-8 when valid, otherwise an explicit escaped form; big payloads as length + digest. */
export function showBytes(buf: Uint8Array): string {
  if (buf.length > 1024) {
    return `<${buf.length} bytes sha256:${new Bun.CryptoHasher("sha256").update(buf).digest("hex").slice(0, 16)}>`;
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(buf);
  } catch {
    let s = "<non-utf8>";
    for (const b of buf) s += b >= 0x20 && b < 0x7f && b !== 0x5c ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, "0")}`;
    return s;
  }
}

const decode = (b64: unknown): Uint8Array => (typeof b64 === "string" ? Buffer.from(b64, "base64") : new Uint8Array());

/** Masks run-dependent parts of EnvironmentInfo wherever it appears (initialize result, environment/info). */
export function maskValue(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(maskValue);
  if (!v || typeof v !== "object") return v;
  const o: Record<string, unknown> = { ...(v as Record<string, unknown>) };
  if ("executorVersion" in o && "platformOs" in o) {
    if (o.shell && typeof o.shell === "object") o.shell = { ...(o.shell as object), path: "<shell-path>" };
    o.executorVersion = "<version>";
    if ("providerId" in o) o.providerId = "<provider>";
    if ("cwd" in o) o.cwd = "<cwd>";
    if ("prependPathDirs" in o) o.prependPathDirs = "<prepend-dirs>";
    // execbox's own additions (src/protocol/extensions.ts), absent on the reference; test/protocol/extensions.test.ts covers them.
    delete o.extensions;
    if (o.capabilities && typeof o.capabilities === "object") {
      // Values say which optional features each build has; only the key set is protocol.
      o.capabilities = Object.fromEntries(Object.entries(o.capabilities).map(([k, x]) => [k, `<${typeof x}>`]));
    }
    return o;
  }
  for (const k of Object.keys(o)) o[k] = maskValue(o[k]);
  return o;
}

type Chunk = { seq?: unknown; stream?: unknown; chunk?: unknown };

/** Normalizes a process/read result according to how deterministic its chunking is. */
export function normalizeRead(result: Record<string, unknown>, mode: "exact" | "streams" | "bytes"): Record<string, unknown> {
  const chunks = Array.isArray(result.chunks) ? (result.chunks as Chunk[]) : undefined;
  if (!chunks) return result;
  if (mode === "exact") {
    return { ...result, chunks: chunks.map((c) => ({ ...c, "=text": showBytes(decode(c.chunk)) })) };
  }
  const streams = joinStreams(chunks);
  if (mode === "streams") {
    const seqs = chunks.map((c) => c.seq).sort((a, b) => Number(a) - Number(b));
    return { ...result, chunks: { "=seqs": seqs, ...streams } };
  }
  return { ...result, chunks: streams, nextSeq: "<masked>" };
}

function joinStreams(chunks: Chunk[]): Record<string, string> {
  const byStream = new Map<string, Uint8Array[]>();
  for (const c of [...chunks].sort((a, b) => Number(a.seq) - Number(b.seq))) {
    const key = `=${String(c.stream)}`;
    byStream.set(key, [...(byStream.get(key) ?? []), decode(c.chunk)]);
  }
  return Object.fromEntries([...byStream].sort().map(([k, parts]) => [k, showBytes(Buffer.concat(parts))]));
}

type Params = Record<string, unknown>;

/**
 * Summarizes one process's notifications on one connection: per-stream byte
 * streams (chunk boundaries and stdout/stderr interleaving are racy), the
 * terminal events, the notification shapes, and the seq invariants that hold
 * regardless of timing. `exact` adds the seq-ordered event list for scenarios
 * whose output timing is deterministic.
 */
export function summarizeProcess(events: { method: string; params: Params }[], exact: boolean): Record<string, unknown> {
  const sorted = [...events].sort((a, b) => Number(a.params.seq) - Number(b.params.seq));
  const outputs = sorted.filter((e) => e.method === "process/output").map((e) => e.params as Chunk);
  const exited = sorted.filter((e) => e.method === "process/exited");
  const closed = sorted.filter((e) => e.method === "process/closed");
  const shapes = [...new Set(sorted.map((e) => `${e.method}{${Object.keys(e.params).sort().join(",")}}`))].sort();
  const summary: Record<string, unknown> = {
    streams: joinStreams(outputs),
    exited: exited.map((e) => ({ exitCode: e.params.exitCode, sandboxDenied: e.params.sandboxDenied })),
    closed: closed.length,
    seq: seqProblems(sorted.map((e) => e.params.seq), closed[0]?.params.seq),
    shapes,
  };
  if (exact) {
    summary.events = sorted.map((e) =>
      e.method === "process/output"
        ? `${String(e.params.seq)} ${String(e.params.stream)} ${showBytes(decode(e.params.chunk))}`
        : `${String(e.params.seq)} ${e.method.slice("process/".length)}`,
    );
  }
  return summary;
}

function seqProblems(seqs: unknown[], closedSeq: unknown): string {
  const nums = seqs.map(Number);
  const problems: string[] = [];
  if (nums.some((n) => !Number.isInteger(n) || n < 1)) problems.push("non-positive or non-integer seq");
  if (new Set(nums).size !== nums.length) problems.push("duplicate seq");
  for (let i = 1; i < nums.length; i++) if (nums[i] !== nums[i - 1]! + 1) problems.push(`gap after ${nums[i - 1]}`);
  if (closedSeq !== undefined && Number(closedSeq) !== Math.max(...nums)) problems.push("closed is not the highest seq");
  return problems.length ? problems.join("; ") : "ok";
}

/**
 * Text-level masks applied to every transcript line: the scenario temp dir
 * and the run dir (raw and percent-encoded), TCP ports, and UUIDs (numbered
 * by first appearance so "same session id" relations stay visible).
 */
export class Masker {
  private uuids = new Map<string, string>();

  constructor(private readonly paths: [string, string][]) {}

  apply(line: string): string {
    let s = line;
    for (const [path, label] of this.paths) {
      s = s.split(path).join(label).split(encodeURI(path)).join(label);
    }
    s = s.replace(/(127\.0\.0\.1|localhost|\[::1\]):\d+/g, "$1:<port>");
    return s.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, (u) => {
      const key = u.toLowerCase();
      if (!this.uuids.has(key)) this.uuids.set(key, `<uuid-${this.uuids.size + 1}>`);
      return this.uuids.get(key)!;
    });
  }
}
